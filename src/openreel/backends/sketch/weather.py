"""Weather and finish: rain, snow, fog, lightning, vignette and film grain.

Particles live in a wrapped box in screen space and move as pure functions of time, so they
are repeatable and never accumulate state. The finish (vignette, grain) is precomputed once
per clip and applied with saturating OpenCV arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from openreel.backends.sketch.draw import Sprite, stroke
from openreel.backends.sketch.palette import Palette, mix
from openreel.backends.sketch.plan import Style, Weather

__all__ = ["Finish", "Fog", "Lightning", "Precipitation"]

Frame = npt.NDArray[np.uint8]


@dataclass(slots=True)
class Precipitation:
    """Falling rain streaks or drifting snowflakes."""

    kind: Weather
    seeds: npt.NDArray[np.float64]
    width: int
    height: int
    speed: float
    color: tuple[int, int, int]

    @classmethod
    def create(
        cls,
        kind: Weather,
        palette: Palette,
        width: int,
        height: int,
        rng: np.random.Generator,
        speed: float,
    ) -> Precipitation:
        """Scatters the particles: denser for storms."""
        density = {Weather.RAIN: 420, Weather.STORM: 650, Weather.SNOW: 360}[kind]
        count = int(density * width / 1920 * max(0.5, height / 1080))
        base = (
            int(palette.sky[height // 2][0]),
            int(palette.sky[height // 2][1]),
            int(palette.sky[height // 2][2]),
        )
        color = mix(base, (235, 240, 250), 0.55 if kind is not Weather.SNOW else 0.9)
        return cls(kind, rng.uniform(0, 1, (count, 4)), width, height, speed, color)

    def draw(self, frame: Frame, t: float) -> None:
        """Draws every particle at time ``t``."""
        w, h = self.width, self.height
        u, v, s, ph = self.seeds.T
        if self.kind is Weather.SNOW:
            fall = h * 0.09 * (0.5 + s) * self.speed
            ys = (v * h * 1.1 + t * fall) % (h * 1.1) - h * 0.05
            xs = (u * w * 1.1 + np.sin(t * (0.6 + s) + ph * 6.28) * h * 0.02 + t * h * 0.01) % (
                w * 1.1
            ) - w * 0.05
            radius = np.maximum(1, np.round((0.6 + 2.2 * s**2) * h / 1080)).astype(int)
            for x, y, r in zip(xs.tolist(), ys.tolist(), radius.tolist(), strict=True):
                cv2.circle(
                    frame, (round(x * 16), round(y * 16)), r * 16, self.color, -1, cv2.LINE_AA, 4
                )
            return
        fall = h * (1.6 + 0.8 * s) * self.speed
        slant = 0.18 if self.kind is Weather.STORM else 0.08
        length = h * (0.025 + 0.035 * s)
        ys = (v * h * 1.2 + t * fall) % (h * 1.2) - h * 0.1
        xs = (u * w * 1.2 + ys * slant) % (w * 1.2) - w * 0.1
        segments = np.stack(
            [np.stack([xs, ys], axis=1), np.stack([xs - length * slant, ys - length], axis=1)],
            axis=1,
        )
        stroke(frame, segments, self.color, max(1, round(h / 1080)))


@dataclass(slots=True)
class Fog:
    """A veil that thickens toward the horizon, with slowly drifting banks."""

    veil: Sprite

    @classmethod
    def create(cls, palette: Palette, width: int, height: int, horizon_row: int) -> Fog:
        """Precomputes the veil for this frame size."""
        rows = np.arange(height, dtype=np.float32)
        dist = np.abs(rows - horizon_row) / height
        alpha = np.clip(0.78 - dist * 1.3, 0.12, 0.78)[:, None] * np.ones((1, width), np.float32)
        color = np.array(
            mix(
                (
                    int(palette.sky[horizon_row][0]),
                    int(palette.sky[horizon_row][1]),
                    int(palette.sky[horizon_row][2]),
                ),
                (220, 222, 226),
                0.45,
            ),
            np.float32,
        )
        rgb = np.broadcast_to(color, (height, width, 3)).astype(np.float32)
        return cls(Sprite.from_rgba(rgb, alpha.astype(np.float32)))

    def draw(self, frame: Frame) -> None:
        """Lays the veil over the whole frame."""
        self.veil.blit(frame, frame.shape[1] / 2, frame.shape[0] / 2)


@dataclass(slots=True)
class Lightning:
    """Storm lightning: a few strikes at seeded times, each a flash and a forked bolt."""

    strikes: list[tuple[float, float, int]]
    height: int
    width: int

    @classmethod
    def create(cls, seconds: float, width: int, height: int, rng: np.random.Generator) -> Lightning:
        """Schedules about one strike every three seconds (at least one)."""
        n = max(1, round(seconds / 3))
        times = np.sort(rng.uniform(0.2, max(0.3, seconds - 0.2), n))
        return cls(
            [
                (float(tm), float(rng.uniform(0.15, 0.85)), int(rng.integers(0, 2**31)))
                for tm in times
            ],
            height,
            width,
        )

    def draw(self, frame: Frame, t: float) -> None:
        """Flashes and draws a bolt during the ~0.25 s after each strike."""
        for when, x, seed in self.strikes:
            age = t - when
            if not 0.0 <= age < 0.25:
                continue
            strength = 1.0 - age / 0.25
            flash = np.full_like(frame, round(70 * strength))
            cv2.add(frame, flash, dst=frame)
            rng = np.random.default_rng(seed)
            px, py = x * self.width, 0.0
            pts = [(px, py)]
            step = self.height * 0.05
            while py < self.height * 0.55:
                px += float(rng.uniform(-1, 1)) * step * 0.6
                py += step * float(rng.uniform(0.6, 1.2))
                pts.append((px, py))
            bolt = np.array(pts)
            glow = max(3, round(self.height / 150))
            stroke(frame, [bolt], (200, 200, 255), glow)
            stroke(frame, [bolt], (255, 255, 255), max(1, glow // 3))


@dataclass(slots=True)
class Finish:
    """Vignette and, for some styles, film grain."""

    vignette: npt.NDArray[np.uint8]
    grain: npt.NDArray[np.uint8] | None
    height: int
    width: int

    @classmethod
    def create(cls, style: Style, width: int, height: int, rng: np.random.Generator) -> Finish:
        """Precomputes the vignette mask and a grain tile larger than the frame."""
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        dx, dy = (xx - width / 2) / (width / 2), (yy - height / 2) / (height / 2)
        strength = 0.38 if style in (Style.NOIR, Style.NEON) else 0.26
        v = 1.0 - strength * np.clip((dx * dx * 0.8 + dy * dy) - 0.15, 0, None) ** 1.4
        vignette = np.repeat((np.clip(v, 0, 1) * 255).astype(np.uint8)[..., None], 3, axis=2)
        grain = None
        if style in (Style.NOIR, Style.WARM, Style.VAPORWAVE):
            amp = 14 if style is Style.NOIR else 8
            noise = rng.integers(0, amp, size=(height + 64, width + 64), dtype=np.uint8)
            grain = np.repeat(noise[..., None], 3, axis=2)
        return cls(np.ascontiguousarray(vignette), grain, height, width)

    def apply(self, frame: Frame, index: int) -> None:
        """Darkens the corners and adds grain that changes every frame."""
        cv2.multiply(frame, self.vignette, dst=frame, scale=1.0 / 255.0)
        if self.grain is not None:
            ox, oy = (index * 37) % 64, (index * 53) % 64
            cv2.add(frame, self.grain[oy : oy + self.height, ox : ox + self.width], dst=frame)
            ox2, oy2 = (index * 17 + 31) % 64, (index * 29 + 7) % 64
            cv2.subtract(
                frame, self.grain[oy2 : oy2 + self.height, ox2 : ox2 + self.width], dst=frame
            )
