"""The backdrop: sky, sun or moon, stars, clouds, terrain silhouettes and water.

Terrain is a set of ridge lines, each a seeded function of world x, drawn as one anti-aliased
polygon per layer per frame. Because ridges are functions rather than bitmaps, any camera move
(pan, push-in, rise) is exact at every frame and costs the same as standing still.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import Enum

import cv2
import numpy as np
import numpy.typing as npt

from openreel.backends.sketch.draw import (
    CameraState,
    Sprite,
    blend_poly,
    fill_poly,
    radial_sprite,
    stroke,
)
from openreel.backends.sketch.palette import RGB, Palette, mix
from openreel.backends.sketch.plan import Setting, Style, Weather

__all__ = ["HORIZON", "Clouds", "Ridge", "RidgeShape", "Sky", "Water", "hash01", "ridges_for"]

HORIZON = 0.12
"""World y of the horizon (a little below the frame's centre, as landscape painters place it)."""


def shifted_copy(
    frame: npt.NDArray[np.uint8], image: npt.NDArray[np.uint8], shift: int, start: int = 0
) -> None:
    """Copies rows ``start..`` of ``image`` into ``frame`` moved down by ``shift`` rows.

    Rows that move in from outside repeat the nearest edge row. Whole-row slices are plain
    memory copies, far cheaper than broadcasting a colour column per frame.
    """
    h = frame.shape[0]
    for row in range(start, h):
        src = row - shift
        if 0 <= src < h:
            break
        frame[row] = image[0 if src < 0 else h - 1]
    else:
        return
    first = row
    last = min(h, h + shift) if shift < 0 else h
    frame[first:last] = image[first - shift : last - shift]
    if last < h:
        frame[last:] = image[h - 1]


def hash01(k: npt.NDArray[np.float64], salt: float) -> npt.NDArray[np.float64]:
    """A repeatable pseudo-random value in [0, 1) for each integer in ``k``."""
    return np.modf(np.abs(np.sin(k * 12.9898 + salt * 78.233) * 43758.5453))[0]


class RidgeShape(Enum):
    """How a ridge line undulates."""

    HILLS = "hills"
    PEAKS = "peaks"
    DUNES = "dunes"
    PINES = "pines"
    SKYLINE = "skyline"
    FLAT = "flat"
    ROCKS = "rocks"


@dataclass(frozen=True, slots=True)
class Ridge:
    """One terrain layer: a silhouette line and everything below it.

    Attributes:
        depth: Parallax depth (0 far, 1 near).
        base: World y of the line's mean.
        amplitude: Height of its features in world units.
        shape: How it undulates.
        color: Fill colour.
        salt: Seed-derived value that makes this ridge unlike others.
        span: Optional (start, end) world-x range outside which the ridge sinks to ``base``
            (a headland on a coast).
        cap: Optional colour of snow caps on peaks.
    """

    depth: float
    base: float
    amplitude: float
    shape: RidgeShape
    color: RGB
    salt: float
    span: tuple[float, float] | None = None
    cap: RGB | None = None

    def height(self, wx: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """World y of the ridge line at world x (smaller y = higher)."""
        s, a = self.salt, self.amplitude
        up: npt.NDArray[np.float64]
        if self.shape is RidgeShape.HILLS:
            h = (
                0.55 * np.sin(wx * 2.1 + s)
                + 0.3 * np.sin(wx * 4.7 + 2 * s)
                + 0.15 * np.sin(wx * 11.0 + 3 * s)
            )
            up = (h + 1.0) / 2.0
        elif self.shape is RidgeShape.PEAKS:
            up = np.zeros_like(wx)
            for i, (freq, weight) in enumerate(((1.7, 0.55), (3.9, 0.3), (9.0, 0.15))):
                up += weight * (1.0 - np.abs(np.sin(wx * freq + s * (i + 1)))) ** 1.6
        elif self.shape is RidgeShape.DUNES:
            phase = wx * 2.6 + s
            up = 0.5 + 0.35 * np.sin(phase) + 0.15 * np.sin(2 * phase + 0.8)
        elif self.shape is RidgeShape.PINES:
            spacing = 0.035 + 0.02 * (1.0 - self.depth)
            k = np.floor(wx / spacing)
            f = wx / spacing - k
            tree = 0.45 + 0.55 * hash01(k, s)
            rolling = 0.25 * (np.sin(wx * 1.3 + s) + 1.0)
            up = rolling + 0.6 * tree * np.clip(1.0 - np.abs(2 * f - 1.0) * 1.15, 0.0, 1.0)
        elif self.shape is RidgeShape.SKYLINE:
            width = 0.06 + 0.03 * (1.0 - self.depth)
            k = np.floor(wx / width)
            f = wx / width - k
            tall = hash01(k, s)
            up = np.where((f > 0.06) & (f < 0.94), 0.2 + 0.8 * tall**1.7, 0.02)
        elif self.shape is RidgeShape.ROCKS:
            # Rolling ground strewn with rounded boulders, some wide, some tall.
            spacing = 0.05 + 0.03 * (1.0 - self.depth)
            k = np.floor(wx / spacing)
            f = wx / spacing - k
            boulder = (hash01(k, s) > 0.45) * (0.3 + 0.7 * hash01(k, s + 1.0))
            profile = np.sqrt(np.clip(1.0 - (2 * f - 1.0) ** 2, 0.0, 1.0))
            up = 0.3 * (np.sin(wx * 1.7 + s) + 1.0) + 0.5 * boulder * profile
        else:
            up = np.zeros_like(wx)
        if self.span is not None:
            lo, hi = self.span
            edge = 0.15
            env = np.clip((wx - lo) / edge, 0, 1) * np.clip((hi - wx) / edge, 0, 1)
            up = up * env * env * (3 - 2 * env)
        return self.base - a * up

    def polygon(
        self, cam: CameraState, *, bottom: float | None = None, step: int = 6
    ) -> npt.NDArray[np.float64]:
        """The layer's screen polygon for this frame: ridge line closed along the bottom."""
        w, h = cam.width, cam.height
        step = 2 if self.shape in (RidgeShape.SKYLINE, RidgeShape.PINES) else step
        xs = np.arange(-8, w + 8 + step, step, dtype=np.float64)
        wy = self.height(cam.world_x(xs, self.depth))
        _, sy = cam.to_screen(0.0, wy, self.depth)
        low = float(h + 8) if bottom is None else bottom
        low = max(low, float(np.max(sy)) + 2.0) if bottom is None else low
        return np.concatenate([np.stack([xs, sy], axis=1), [[xs[-1], low], [xs[0], low]]])

    def draw(self, frame: npt.NDArray[np.uint8], cam: CameraState) -> None:
        """Fills the layer (with snow caps when it has them)."""
        poly = self.polygon(cam)
        if self.cap is not None:
            fill_poly(frame, [poly], self.cap)
            lowered = poly.copy()
            lowered[:-2, 1] += cam.scale(self.depth) * self.amplitude * 0.22
            fill_poly(frame, [lowered], self.color)
        else:
            fill_poly(frame, [poly], self.color)

    def draw_windows(
        self, frame: npt.NDArray[np.uint8], cam: CameraState, color: RGB, lit: float
    ) -> None:
        """Lit windows on a skyline, a seeded fraction of them on, more as night falls."""
        if self.shape is not RidgeShape.SKYLINE or lit < 0.3:
            return
        width = 0.06 + 0.03 * (1.0 - self.depth)
        left, right = cam.world_x(np.array([0.0, float(cam.width)]), self.depth)
        ks = np.arange(np.floor(left / width), np.floor(right / width) + 1)
        tops = self.base - self.amplitude * (0.2 + 0.8 * hash01(ks, self.salt) ** 1.7)
        cols, pane = 4, width / 10
        xs, ys = [], []
        for k, top in zip(ks.tolist(), tops.tolist(), strict=True):
            rows = int((self.base - top - 0.02) / (pane * 2.2))
            if rows < 1:
                continue
            gx = k * width + width * 0.14 + (np.arange(cols) * width * 0.72 / cols)
            gy = top + 0.015 + np.arange(rows) * pane * 2.2
            xx, yy = np.meshgrid(gx, gy)
            on = hash01(xx * 97.0 + yy * 13.0, self.salt + 1.0) < 0.25 + 0.3 * lit
            xs.append(xx[on])
            ys.append(yy[on])
        if not xs:
            return
        x0, y0 = np.concatenate(xs), np.concatenate(ys)
        corners = np.array([[0.0, 0.0], [pane, 0.0], [pane, pane * 1.3], [0.0, pane * 1.3]])
        world = (np.stack([x0, y0], axis=1)[:, None, :] + corners[None, :, :]).reshape(-1, 2)
        screen = cam.points(world, self.depth).reshape(-1, 4, 2)
        fill_poly(frame, screen, mix(self.color, color, 0.35 + 0.6 * lit * (self.depth + 0.3)))


def ridges_for(
    setting: Setting, palette: Palette, rng: np.random.Generator, aspect: float
) -> list[Ridge]:
    """The terrain layers of a setting, far to near (the last one is the ground subjects use).

    In a season with ``palette.caps`` (snow, autumn gold), the crests of the layers behind the
    nearest ground take that colour: snow on the tips of the pines, gold on the hills.
    """
    ridges = _ridges_for(setting, palette, rng, aspect)
    if palette.caps is None or len(ridges) < 2:
        return ridges
    capped = [
        replace(r, cap=palette.caps) if r.shape is not RidgeShape.SKYLINE and r.cap is None else r
        for r in ridges[:-1]
    ]
    return [*capped, ridges[-1]]


def _ridges_for(
    setting: Setting, palette: Palette, rng: np.random.Generator, aspect: float
) -> list[Ridge]:
    far, mid, near = palette.ground
    salts = rng.uniform(0, 100, size=6)
    hz = HORIZON
    if setting is Setting.MOUNTAINS:
        cap = mix(palette.sky[-1].tolist(), (250, 250, 255), 0.7)
        return [
            Ridge(0.12, hz, 0.42, RidgeShape.PEAKS, far, salts[0], cap=cap),
            Ridge(0.3, hz + 0.06, 0.3, RidgeShape.PEAKS, mix(far, mid, 0.6), salts[1]),
            Ridge(0.6, hz + 0.2, 0.16, RidgeShape.PINES, mid, salts[2]),
            Ridge(1.0, hz + 0.33, 0.08, RidgeShape.HILLS, near, salts[3]),
        ]
    if setting is Setting.DESERT:
        return [
            Ridge(0.1, hz, 0.12, RidgeShape.PEAKS, far, salts[0]),
            Ridge(0.35, hz + 0.05, 0.08, RidgeShape.DUNES, mid, salts[1]),
            Ridge(0.75, hz + 0.22, 0.12, RidgeShape.DUNES, near, salts[2]),
        ]
    if setting is Setting.FOREST:
        return [
            Ridge(0.15, hz, 0.2, RidgeShape.HILLS, far, salts[0]),
            Ridge(0.35, hz + 0.04, 0.2, RidgeShape.PINES, mix(far, mid, 0.5), salts[1]),
            Ridge(0.65, hz + 0.16, 0.26, RidgeShape.PINES, mid, salts[2]),
            Ridge(1.0, hz + 0.36, 0.1, RidgeShape.HILLS, near, salts[3]),
        ]
    if setting is Setting.CITY:
        return [
            Ridge(0.15, hz, 0.32, RidgeShape.SKYLINE, far, salts[0]),
            Ridge(0.4, hz + 0.05, 0.38, RidgeShape.SKYLINE, mid, salts[1]),
            Ridge(1.0, hz + 0.3, 0.0, RidgeShape.FLAT, near, salts[2]),
        ]
    if setting is Setting.COUNTRYSIDE:
        return [
            Ridge(0.12, hz, 0.1, RidgeShape.HILLS, far, salts[0]),
            Ridge(0.35, hz + 0.06, 0.12, RidgeShape.HILLS, mix(far, mid, 0.5), salts[1]),
            Ridge(0.65, hz + 0.18, 0.12, RidgeShape.HILLS, mid, salts[2]),
            Ridge(1.0, hz + 0.33, 0.08, RidgeShape.HILLS, near, salts[3]),
        ]
    if setting is Setting.SNOWFIELD:
        return [
            Ridge(0.12, hz, 0.3, RidgeShape.PEAKS, far, salts[0]),
            Ridge(0.4, hz + 0.08, 0.08, RidgeShape.HILLS, mid, salts[1]),
            Ridge(1.0, hz + 0.3, 0.06, RidgeShape.HILLS, near, salts[2]),
        ]
    if setting is Setting.LAKE:
        return [
            Ridge(0.12, hz, 0.32, RidgeShape.PEAKS, far, salts[0]),
            Ridge(0.3, hz + 0.005, 0.12, RidgeShape.PINES, mid, salts[1]),
            Ridge(1.0, hz + 0.36, 0.05, RidgeShape.HILLS, near, salts[2]),
        ]
    if setting is Setting.COAST:
        side = -1.0 if rng.random() < 0.5 else 1.0
        far_start = 0.1 * side
        far_span = (far_start, far_start + 4.0) if side > 0 else (far_start - 4.0, far_start)
        rock_start = 0.18 * aspect * side
        rock_span = (rock_start, rock_start + 4.0) if side > 0 else (rock_start - 4.0, rock_start)
        return [
            Ridge(0.12, hz, 0.16, RidgeShape.HILLS, far, salts[0], span=far_span),
            Ridge(0.9, 0.56, 0.42, RidgeShape.HILLS, near, salts[1], span=rock_span),
        ]
    if setting is Setting.UNDERWATER:
        return [
            Ridge(0.3, 0.3, 0.1, RidgeShape.DUNES, far, salts[0]),
            Ridge(0.7, 0.42, 0.08, RidgeShape.HILLS, mid, salts[1]),
        ]
    if setting is Setting.MARS:
        return [
            Ridge(0.1, hz, 0.2, RidgeShape.PEAKS, far, salts[0]),
            Ridge(0.35, hz + 0.05, 0.08, RidgeShape.DUNES, mid, salts[1]),
            Ridge(0.6, hz + 0.14, 0.06, RidgeShape.ROCKS, mix(mid, near, 0.5), salts[2]),
            Ridge(1.0, hz + 0.3, 0.07, RidgeShape.ROCKS, near, salts[3]),
        ]
    if setting is Setting.MOON:
        return [
            Ridge(0.1, hz, 0.1, RidgeShape.HILLS, far, salts[0]),
            Ridge(0.4, hz + 0.06, 0.05, RidgeShape.HILLS, mid, salts[1]),
            Ridge(1.0, hz + 0.24, 0.03, RidgeShape.HILLS, near, salts[2]),
        ]
    return []


@dataclass(slots=True)
class Sky:
    """Sky gradient, sun or moon with glow, and stars."""

    palette: Palette
    width: int
    height: int
    sun_x: float
    star_xy: npt.NDArray[np.float64]
    star_level: npt.NDArray[np.float64]
    star_phase: npt.NDArray[np.float64]
    glow: Sprite
    disc_radius: float
    vaporwave: bool
    image: npt.NDArray[np.uint8]

    @classmethod
    def create(cls, palette: Palette, width: int, height: int, rng: np.random.Generator) -> Sky:
        """Places the sun and stars for this seed."""
        aspect = width / height
        count = int(palette.stars * 700 * aspect)
        star_xy = np.stack(
            [rng.uniform(-aspect, aspect, count), rng.uniform(-0.5, HORIZON, count) ** 1.0], axis=1
        )
        radius = max(6.0, height * (0.045 if palette.is_night else 0.05))
        glow = radial_sprite(int(radius * 7), palette.sun, 0.9 * palette.glow)
        return cls(
            palette=palette,
            width=width,
            height=height,
            sun_x=float(rng.uniform(-0.35, 0.35) * aspect * 0.6),
            star_xy=star_xy,
            star_level=rng.uniform(0.25, 1.0, count) ** 2,
            star_phase=rng.uniform(0, 2 * math.pi, count),
            glow=glow,
            disc_radius=radius,
            vaporwave=palette.style is Style.VAPORWAVE,
            image=np.ascontiguousarray(
                np.broadcast_to(palette.sky[:, None, :], (height, width, 3))
            ),
        )

    def horizon_row(self, cam: CameraState) -> float:
        """Screen row of the horizon this frame."""
        _, sy = cam.to_screen(0.0, HORIZON, 0.05)
        return float(sy)

    def draw_gradient(self, frame: npt.NDArray[np.uint8], cam: CameraState) -> None:
        """Paints the sky gradient, shifted so it always meets the horizon."""
        shift = round(self.horizon_row(cam) - self.height * (0.5 + HORIZON))
        shifted_copy(frame, self.image, shift)

    def draw_stars(self, frame: npt.NDArray[np.uint8], cam: CameraState, t: float) -> None:
        """Twinkling stars, drawn only where the sky is dark enough."""
        if len(self.star_xy) == 0:
            return
        sx, sy = cam.to_screen(self.star_xy[:, 0], self.star_xy[:, 1], 0.02)
        ix, iy = np.round(sx).astype(np.int64), np.round(sy).astype(np.int64)
        keep = (ix >= 0) & (ix < self.width) & (iy >= 0) & (iy < self.height)
        twinkle = 0.75 + 0.25 * np.sin(t * 3.0 + self.star_phase[keep])
        level = (self.star_level[keep] * twinkle * 255 * self.palette.stars)[:, None]
        ix, iy = ix[keep], iy[keep]
        frame[iy, ix] = np.maximum(frame[iy, ix], level.astype(np.uint8))

    def draw_sun(self, frame: npt.NDArray[np.uint8], cam: CameraState) -> tuple[float, float]:
        """Sun or moon disc with its glow; returns its screen position."""
        wy = self.palette.sun_height - 0.5
        sx, sy = cam.to_screen(self.sun_x, wy, 0.04)
        x, y = float(sx), float(sy)
        r = self.disc_radius * cam.scale(0.04) / self.height
        c = (round(x * 16), round(y * 16))
        cv2.circle(frame, c, round(r * 16), self.palette.sun, -1, cv2.LINE_AA, 4)
        if not self.palette.is_night:
            self.glow.blit(frame, x, y)
        if self.palette.is_night:
            shade = mix(self.palette.sun, (120, 120, 130), 0.35)
            for dx, dy, rr in ((-0.3, -0.2, 0.22), (0.25, 0.15, 0.16), (-0.05, 0.4, 0.12)):
                cv2.circle(
                    frame,
                    (round((x + dx * r) * 16), round((y + dy * r) * 16)),
                    round(rr * r * 16),
                    shade,
                    -1,
                    cv2.LINE_AA,
                    4,
                )
            self.glow.blit(frame, x, y)
        elif self.vaporwave:
            sky_row = self.palette.sky[min(self.height - 1, max(0, int(y)))]
            band = (int(sky_row[0]), int(sky_row[1]), int(sky_row[2]))
            for i in range(5):
                yy = y + r * (0.15 + 0.17 * i)
                half = math.sqrt(max(r * r - (yy - y) ** 2, 0.0))
                cv2.line(
                    frame,
                    (round((x - half) * 16), round(yy * 16)),
                    (round((x + half) * 16), round(yy * 16)),
                    band,
                    max(1, round(r * 0.04 * (i + 1))),
                    cv2.LINE_AA,
                    4,
                )
        return x, y


_CLOUD_SCALE = 0.25
"""Clouds are drawn and blurred at a quarter of their size, then scaled up (soft anyway)."""

_CLOUD_TAIL = np.float32(3 / 255)
"""Alpha below this is dropped from clouds, continuously (a kink, never a step)."""


def _cloud_sprite(
    rng: np.random.Generator,
    cw: int,
    ch: int,
    lit: npt.NDArray[np.float32],
    shadow: npt.NDArray[np.float32],
    opacity: float,
) -> Sprite:
    """One soft cloud: a few blurred ellipses, fading out at the base, shaded top to bottom.

    The ellipses reach past the cloud's nominal cw x ch box and the blur spreads them further,
    so they are drawn on a canvas padded by both: a canvas cut at the box would end the cloud in
    a hard line (the seams of issue 25), and the blur's border would reflect it back in. The
    transparent margin is cropped only where alpha rounds to nothing, so a blit changes no
    pixel outside what it keeps.
    """
    sw, sh = max(8, int(cw * _CLOUD_SCALE)), max(4, int(ch * _CLOUD_SCALE))
    sigma = max(1.0, sw * 0.025)
    # Ellipse centres lie in 0.2..0.8 of the width with half-axes up to 0.28 (0.08 past each
    # side) and 0.45..0.7 of the height with half-axes up to 0.38; the blur adds 4 sigma.
    px = math.ceil(0.1 * sw + 4 * sigma) + 1
    py = math.ceil(0.1 * sh + 4 * sigma) + 1
    mask = np.zeros((sh + 2 * py, sw + 2 * px), np.float32)
    for _ in range(int(rng.integers(5, 9))):
        ex, ey = rng.uniform(0.2, 0.8) * sw, rng.uniform(0.45, 0.7) * sh
        ax, ay = rng.uniform(0.12, 0.28) * sw, rng.uniform(0.2, 0.38) * sh
        cv2.ellipse(
            mask, (int(ex) + px, int(ey) + py), (int(ax), int(ay)), 0, 0, 360, 1.0, -1, cv2.LINE_AA
        )
    # The base fades out over the box's lowest 28% and stays clear below it.
    fade_top = py + int(sh * 0.72)
    mask[fade_top : py + sh, :] *= np.linspace(1, 0, py + sh - fade_top, dtype=np.float32)[:, None]
    mask[py + sh :, :] = 0.0
    blurred = cv2.GaussianBlur(mask, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
    out_w = round(mask.shape[1] * cw / sw)
    out_h = round(mask.shape[0] * ch / sh)
    alpha = np.asarray(
        cv2.resize(blurred, (out_w, out_h), interpolation=cv2.INTER_LINEAR), np.float32
    ) * np.float32(opacity)
    # The Gaussian's faint tail would make every sprite a third larger (and every blit a third
    # slower) for levels nobody sees: lower alpha so it reaches nil, without a step, there.
    alpha = np.clip((alpha - _CLOUD_TAIL) / (1.0 - _CLOUD_TAIL), 0.0, 1.0)
    # Shade from the top of the nominal box (lit) to its bottom (shadow).
    top = (out_h - ch) / 2
    shade = np.clip((np.arange(out_h, dtype=np.float32) - top) / ch, 0, 1)[:, None, None]
    color = np.broadcast_to(lit * (1 - shade) + shadow * shade, (out_h, out_w, 3))
    # Crop the transparent margin so blits touch only pixels the cloud actually changes.
    rows = np.flatnonzero(alpha.max(axis=1) >= Sprite.ALPHA_EPSILON)
    cols = np.flatnonzero(alpha.max(axis=0) >= Sprite.ALPHA_EPSILON)
    box = (slice(None), slice(None))
    if rows.size and cols.size:
        box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    return Sprite.from_rgba(np.ascontiguousarray(color[box], dtype=np.float32), alpha[box])


@dataclass(slots=True)
class Clouds:
    """Soft clouds as pre-rendered sprites that drift with the wind."""

    sprites: list[Sprite]
    positions: npt.NDArray[np.float64]
    depths: npt.NDArray[np.float64]
    wind: float

    @classmethod
    def create(
        cls,
        palette: Palette,
        weather: Weather,
        width: int,
        height: int,
        rng: np.random.Generator,
        wind: float,
    ) -> Clouds:
        """Builds the cloud sprites for the weather: a few wisps when clear, a lid when stormy."""
        count = {
            Weather.CLEAR: 3,
            Weather.CLOUDS: 9,
            Weather.RAIN: 10,
            Weather.STORM: 10,
            Weather.SNOW: 10,
            Weather.FOG: 5,
        }[weather]
        dark = {Weather.STORM: 0.62, Weather.RAIN: 0.42, Weather.SNOW: 0.15}.get(weather, 0.0)
        opacity = 0.55 if weather is Weather.CLEAR else 0.9
        horizon = palette.sky[int(height * (0.5 + HORIZON)) - 1].astype(np.float32)
        lit = np.array(
            mix((int(horizon[0]), int(horizon[1]), int(horizon[2])), palette.sun, 0.6), np.float32
        )
        lit = lit * (1 - dark) + np.array([70, 72, 82], np.float32) * dark
        shadow = lit * (0.72 if not palette.is_night else 0.55)
        aspect = width / height
        sprites: list[Sprite] = []
        for _ in range(count):
            cw = int(height * rng.uniform(0.35, 0.8) * (1.2 if weather is Weather.STORM else 1.0))
            ch = int(cw * rng.uniform(0.28, 0.4))
            sprites.append(_cloud_sprite(rng, cw, ch, lit, shadow, opacity))
        positions = np.stack(
            [rng.uniform(-aspect, aspect, count), rng.uniform(-0.45, HORIZON - 0.1, count)], axis=1
        )
        depths = rng.uniform(0.05, 0.2, count)
        return cls(sprites, positions, depths, wind)

    def draw(self, frame: npt.NDArray[np.uint8], cam: CameraState, t: float) -> None:
        """Blits every cloud at its wind-drifted position, wrapping around the view."""
        aspect = cam.width / cam.height
        for sprite, (x, y), d in zip(self.sprites, self.positions, self.depths, strict=True):
            span = 2 * aspect + 1.0
            wx = (x + self.wind * t * (0.5 + d) + span / 2) % span - span / 2 + cam.x * d
            sx, sy = cam.to_screen(wx, y, float(d))
            sprite.blit(frame, float(sx), float(sy))


@dataclass(slots=True)
class Water:
    """Open water below the horizon: gradient, moving ripples and a glitter path under the light."""

    palette: Palette
    width: int
    height: int
    seeds: npt.NDArray[np.float64]
    speed: float
    image: npt.NDArray[np.uint8]

    @classmethod
    def create(
        cls, palette: Palette, width: int, height: int, rng: np.random.Generator, speed: float
    ) -> Water:
        """Places the ripple streaks for this seed."""
        image = np.ascontiguousarray(np.broadcast_to(palette.water[:, None, :], (height, width, 3)))
        return cls(palette, width, height, rng.uniform(0, 1, (220, 3)), speed, image)

    def draw(
        self,
        frame: npt.NDArray[np.uint8],
        cam: CameraState,
        t: float,
        horizon_row: float,
        light_x: float | None,
        ridges: list[Ridge],
    ) -> None:
        """Paints the water from the horizon down, with reflections of the far ridges.

        ``light_x`` is the sun's or moon's screen column, or None when it is hidden (no glitter).
        """
        top = max(0, round(horizon_row))
        if top >= self.height:
            return
        shifted_copy(
            frame, self.image, round(horizon_row - self.height * (0.5 + HORIZON)), start=top
        )
        for ridge in ridges:
            poly = ridge.polygon(cam, bottom=horizon_row)
            mirrored = poly.copy()
            mirrored[:, 1] = 2 * horizon_row - mirrored[:, 1]
            blend_poly(frame, [mirrored], ridge.color, 0.35)
        depth_span = self.height - horizon_row
        light = (
            mix(self.palette.sun, self.palette.accent, 0.2)
            if self.palette.glow > 0
            else self.palette.sun
        )
        ripple = mix(
            (int(frame[-1, 0, 0]), int(frame[-1, 0, 1]), int(frame[-1, 0, 2])),
            (255, 255, 255),
            0.18,
        )
        u, v, w = self.seeds.T
        near = v**1.7
        y = horizon_row + 2 + near * depth_span
        length = self.width * (0.01 + 0.05 * near) * (0.5 + w)
        drift = np.sin(t * self.speed * (0.6 + w) + u * 40.0) * length * 0.6
        span = self.width * 1.2
        x = (
            (u * span - self.width * 0.1 + t * self.speed * 6 * (0.3 + near)) % span
            - self.width * 0.1
            + drift
        )
        is_glint = np.arange(len(u)) % 3 == 0
        if light_x is not None:
            spread = self.width * (0.02 + 0.12 * near)
            x = np.where(is_glint, light_x + (u - 0.5) * 2 * spread + drift, x)
        segments = np.stack(
            [np.stack([x - length / 2, y], axis=1), np.stack([x + length / 2, y], axis=1)], axis=1
        )
        ripples = segments[~is_glint]
        glints = segments[is_glint] if light_x is not None else segments[:0]
        stroke(frame, ripples, ripple, 1)
        if len(glints):
            stroke(frame, glints, light, max(1, self.height // 540))
