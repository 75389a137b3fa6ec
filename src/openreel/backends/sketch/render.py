"""SceneRenderer: draws a ScenePlan frame by frame.

All randomness is drawn from the seed when the renderer is built; a frame is then a pure
function of its index, so the same plan, size and seed give the same frames byte for byte and
any frame can be rendered on its own (tests render frame 0 and frame N without the rest).
Each frame is a fresh array handed out one at a time; nothing is kept between frames, so memory
does not grow with the clip's length.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt

from openreel.backends.sketch.draw import (
    CameraState,
    blend_poly,
    fill_poly,
    radial_sprite,
    soft_poly,
)
from openreel.backends.sketch.palette import build_palette, mix
from openreel.backends.sketch.plan import Camera, Pace, ScenePlan, Setting, SubjectKind, Weather
from openreel.backends.sketch.scenery import HORIZON, Clouds, Ridge, Sky, Water, ridges_for
from openreel.backends.sketch.subjects import Stage, make_subjects
from openreel.backends.sketch.subjects.shapes import ellipse
from openreel.backends.sketch.weather import Finish, Fog, Lightning, Precipitation

__all__ = ["PAN_SPEED", "SceneRenderer"]

PAN_SPEED = 0.04
"""Camera pan speed at normal pace, in frame heights per second at the nearest layer."""

_PACE = {Pace.SLOW: 0.55, Pace.NORMAL: 1.0, Pace.FAST: 1.9}
_WATER_SUBJECTS = (SubjectKind.SAILBOAT, SubjectKind.SHIP, SubjectKind.WHALE, SubjectKind.DOLPHIN)
_AIRLESS = (Setting.SPACE, Setting.MOON)  # no clouds, no weather, no sun disc in a black sky


def _cover(image: npt.NDArray[np.uint8], width: int, height: int) -> npt.NDArray[np.uint8]:
    """Scales ``image`` to cover width x height and crops the centre (no bars, no stretching)."""
    ih, iw = image.shape[:2]
    scale = max(width / iw, height / ih)
    sw, sh = max(width, round(iw * scale)), max(height, round(ih * scale))
    resized = cv2.resize(
        image, (sw, sh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LANCZOS4
    )
    x0, y0 = (sw - width) // 2, (sh - height) // 2
    return np.ascontiguousarray(resized[y0 : y0 + height, x0 : x0 + width])


def _ease(u: float) -> float:
    return u * u * (3.0 - 2.0 * u)


class SceneRenderer:
    """Renders one clip of a plan at a fixed size, frame rate and seed."""

    def __init__(
        self,
        plan: ScenePlan,
        *,
        width: int,
        height: int,
        fps: float,
        frames: int,
        seed: int,
        backdrop: npt.NDArray[np.uint8] | None = None,
    ) -> None:
        self.plan = plan
        self.width, self.height, self.fps, self.frames = width, height, fps, frames
        self.speed = _PACE[plan.pace]
        rng = np.random.default_rng(seed)
        aspect = width / height
        self.palette = build_palette(
            plan.setting, plan.time_of_day, plan.style, height, 0.5 + HORIZON, plan.season
        )
        setting = plan.setting
        self.has_water = plan.has_water or (
            any(plan.has(k) for k in _WATER_SUBJECTS)
            and setting not in (Setting.UNDERWATER, *_AIRLESS, Setting.MARS)
        )
        ridges = ridges_for(setting, self.palette, rng, aspect)
        if self.has_water and not plan.has_water:
            ridges = [r for r in ridges if r.base <= HORIZON + 0.05]
        self.back_ridges = [r for r in ridges if r.depth < 0.8 or not self.has_water]
        self.front_ridges = [r for r in ridges if r not in self.back_ridges]
        ground = ridges[-1] if ridges and ridges[-1].depth >= 0.5 else None
        self.open_sky = setting is not Setting.UNDERWATER
        self.sky = Sky.create(self.palette, width, height, rng)
        self.has_backdrop = backdrop is not None
        if backdrop is not None:
            self.sky.image = _cover(backdrop, width, height)
        wind = 0.02 * self.speed * (2.5 if plan.weather is Weather.STORM else 1.0)
        self.clouds = (
            Clouds.create(self.palette, plan.weather, width, height, rng, wind)
            if setting not in (*_AIRLESS, Setting.UNDERWATER)
            else None
        )
        self.water = (
            Water.create(self.palette, width, height, rng, self.speed) if self.has_water else None
        )
        self.precipitation = (
            Precipitation.create(plan.weather, self.palette, width, height, rng, self.speed)
            if plan.weather in (Weather.RAIN, Weather.SNOW, Weather.STORM)
            and setting not in (Setting.UNDERWATER, *_AIRLESS)
            else None
        )
        self.fog = (
            Fog.create(self.palette, width, height, int(height * (0.5 + HORIZON)))
            if plan.weather is Weather.FOG and setting not in _AIRLESS
            else None
        )
        seconds = frames / fps
        self.lightning = (
            Lightning.create(seconds, width, height, rng)
            if plan.weather is Weather.STORM and setting not in _AIRLESS
            else None
        )
        self.finish = Finish.create(plan.style, width, height, rng)
        self.camera_total = self._camera_extent(seconds)
        lead = self.camera_total / 2 if plan.camera in (Camera.PAN_LEFT, Camera.PAN_RIGHT) else 0.0
        stage = Stage(self.palette, setting, ground, self.has_water, aspect, self.speed, lead)
        # Subjects draw from a stream of their own, keyed by the seed alone: what the scene's
        # light and weather draw before them must not move them (an edit "at night").
        self.subjects = make_subjects(plan.subjects, stage, np.random.default_rng([seed, 1]))
        self.extras = self._setting_extras(rng, aspect)

    def _camera_extent(self, seconds: float) -> float:
        if self.plan.camera is Camera.PAN_RIGHT:
            return PAN_SPEED * self.speed * seconds
        if self.plan.camera is Camera.PAN_LEFT:
            return -PAN_SPEED * self.speed * seconds
        return 0.0

    def camera(self, index: int) -> CameraState:
        """Where the camera is at frame ``index``."""
        t = index / self.fps
        u = _ease(index / max(self.frames - 1, 1))
        move = self.plan.camera
        amount = 0.6 + 0.4 * min(self.speed, 1.5)
        if move in (Camera.PAN_LEFT, Camera.PAN_RIGHT):
            return CameraState(
                self.width, self.height, x=self.camera_total * t / max(self.frames / self.fps, 1e-9)
            )
        if move is Camera.PUSH_IN:
            return CameraState(self.width, self.height, zoom=1.0 + 0.4 * amount * u)
        if move is Camera.PULL_OUT:
            return CameraState(self.width, self.height, zoom=1.0 + 0.4 * amount * (1.0 - u))
        if move is Camera.RISE:
            return CameraState(self.width, self.height, y=-0.16 * amount * u)
        if move is Camera.TILT_UP:
            return CameraState(self.width, self.height, tilt=0.1 * amount * u)
        if move is Camera.TILT_DOWN:
            return CameraState(self.width, self.height, tilt=-0.1 * amount * u)
        return CameraState(self.width, self.height)

    def _setting_extras(
        self, rng: np.random.Generator, aspect: float
    ) -> list[tuple[float, float, float]]:
        if self.plan.setting is Setting.SPACE:
            return [
                (
                    float(rng.uniform(-0.5, 0.5) * aspect),
                    float(rng.uniform(-0.3, 0.2)),
                    float(rng.uniform(0.25, 0.45)),
                )
                for _ in range(3)
            ]
        if self.plan.setting is Setting.UNDERWATER:
            return [
                (
                    float(rng.uniform(-0.6, 0.6) * aspect),
                    float(rng.uniform(0, 1)),
                    float(rng.uniform(0.02, 0.06)),
                )
                for _ in range(7)
            ]
        if self.plan.setting is Setting.MOON:
            # The Earth high in the black sky, then craters on the near ground.
            earth = (float(rng.uniform(-0.35, 0.35) * aspect * 0.6), -0.3, 0.07)
            craters = [
                (
                    float(rng.uniform(-0.7, 0.7) * aspect),
                    float(rng.uniform(HORIZON + 0.26, 0.48)),
                    float(rng.uniform(0.03, 0.08)),
                )
                for _ in range(9)
            ]
            return [earth, *craters]
        return []

    def _draw_earth(self, frame: npt.NDArray[np.uint8], cam: CameraState) -> None:
        """The Earth seen from the moon: ocean, land, clouds, and its night side."""
        x, y, r = self.extras[0]
        glow = radial_sprite(int(self.height * r * 2.2), (90, 140, 255), 0.35, 1.6)
        sx, sy = cam.to_screen(x, y, 0.03)
        glow.blit(frame, float(sx), float(sy))
        parts = [
            (ellipse(0, 0, r, r, 48), (46, 98, 196)),
            (ellipse(-0.3 * r, -0.2 * r, 0.35 * r, 0.45 * r, 20), (74, 138, 84)),
            (ellipse(0.35 * r, 0.3 * r, 0.3 * r, 0.22 * r, 20), (96, 150, 80)),
            (ellipse(0.1 * r, -0.55 * r, 0.55 * r, 0.12 * r, 20), (236, 240, 248)),
            (ellipse(-0.15 * r, 0.6 * r, 0.5 * r, 0.1 * r, 20), (236, 240, 248)),
        ]
        for local, color in parts:
            fill_poly(
                frame, [cam.points(local + np.array([x, y]), 0.03)], self.palette.graded(color)
            )
        # The night side: the disc less a lit crescent (points of the disc right of a circle).
        a = np.linspace(-math.pi / 2, math.pi / 2, 24)
        edge = np.stack([r * np.cos(a), r * np.sin(a)], axis=1)
        inner = np.stack([0.35 * r * np.cos(a[::-1]), r * np.sin(a[::-1])], axis=1)
        shade = np.concatenate([edge, inner]) + np.array([x, y])
        blend_poly(frame, [cam.points(shade, 0.03)], (4, 6, 16), 0.8)

    def _draw_ground_details(self, frame: npt.NDArray[np.uint8], cam: CameraState) -> None:
        """Craters on the moon's near ground: a shaded bowl with a lit far rim."""
        if self.plan.setting is not Setting.MOON:
            return
        near = self.palette.ground[-1]
        dark = mix(near, (20, 20, 26), 0.45)
        rim = mix(near, (255, 255, 255), 0.3)
        for x, y, r in self.extras[1:]:
            fill_poly(frame, [cam.points(ellipse(x, y, r * 1.08, r * 0.3, 28), 1.0)], rim)
            fill_poly(frame, [cam.points(ellipse(x, y + 0.004, r, r * 0.26, 28), 1.0)], dark)

    def _draw_extras(self, frame: npt.NDArray[np.uint8], cam: CameraState, t: float) -> None:
        if self.plan.setting is Setting.SPACE:
            colors = [(120, 60, 170), (40, 90, 180), (170, 60, 120)]
            for i, (x, y, r) in enumerate(self.extras):
                sx, sy = cam.to_screen(x, y, 0.03)
                glow = radial_sprite(
                    int(self.height * r), self.palette.graded(colors[i % 3]), 0.55, 1.6
                )
                glow.blit(frame, float(sx), float(sy))
        elif self.plan.setting is Setting.UNDERWATER:
            light = mix(
                (
                    int(self.palette.sky[0][0]),
                    int(self.palette.sky[0][1]),
                    int(self.palette.sky[0][2]),
                ),
                (255, 255, 255),
                0.5,
            )
            for i, (x, phase, w) in enumerate(self.extras[:4]):
                sway = math.sin(t * 0.4 * self.speed + phase * 6.28) * 0.08
                beam = np.array(
                    [[x - w, -0.6], [x + w, -0.6], [x + sway + w * 3, 0.5], [x + sway - w * 3, 0.5]]
                )
                # Shafts fade out as they sink and have soft sides, so neither their ends nor
                # their outline shows as a line whatever the camera does.
                shaft = cam.points(beam, 0.1)
                soft_poly(
                    frame,
                    [shaft],
                    light,
                    0.1 + 0.04 * (i % 2),  # a fading shaft shows about 2/3 of its peak
                    self.height * 0.015,
                    fade=(
                        (float(shaft[:2, 0].mean()), float(shaft[:2, 1].mean())),
                        (float(shaft[2:, 0].mean()), float(shaft[2:, 1].mean())),
                    ),
                )
            bubbles = []
            for x, phase, w in self.extras:
                for k in range(4):
                    yy = 0.5 - ((t * 0.06 * self.speed + phase + k * 0.25) % 1.0) * 1.2
                    xx = x + 0.01 * math.sin(t * 2 + k + phase * 9)
                    a = np.linspace(0, 2 * math.pi, 10, endpoint=False)
                    r = w * 0.12
                    bubbles.append(
                        cam.points(np.stack([xx + r * np.cos(a), yy + r * np.sin(a)], axis=1), 0.6)
                    )
            blend_poly(frame, bubbles, (230, 245, 255), 0.45)

    def render(self, index: int) -> npt.NDArray[np.uint8]:
        """Renders frame ``index`` as a new (height, width, 3) uint8 RGB array."""
        frame = np.empty((self.height, self.width, 3), np.uint8)
        t = index / self.fps
        cam = self.camera(index)
        self.sky.draw_gradient(frame, cam)
        sun_x: float | None = None
        if self.open_sky and not self.has_backdrop:
            if self.palette.stars > 0:
                self.sky.draw_stars(frame, cam, t)
            if self.plan.setting not in _AIRLESS and self.plan.weather not in (
                Weather.STORM,
                Weather.FOG,
            ):
                sun_x, _ = self.sky.draw_sun(frame, cam)
        if self.plan.setting is Setting.MOON:
            self._draw_earth(frame, cam)  # a solid body, like the sun: drawn apart from lights
        self._draw_extras(frame, cam, t)
        if self.clouds is not None:
            self.clouds.draw(frame, cam, t)
        for ridge in self.back_ridges:
            ridge.draw(frame, cam)
            ridge.draw_windows(frame, cam, self.palette.accent, self.palette.windows)
        if self.water is not None:
            reflect: list[Ridge] = [r for r in self.back_ridges if r.depth < 0.5]
            self.water.draw(frame, cam, t, self.sky.horizon_row(cam), sun_x, reflect)
        for ridge in self.front_ridges:
            ridge.draw(frame, cam)
        self._draw_ground_details(frame, cam)
        for subject in self.subjects:
            subject.draw(frame, cam, t)
        if self.precipitation is not None:
            self.precipitation.draw(frame, t)
        if self.fog is not None:
            self.fog.draw(frame)
        if self.lightning is not None:
            self.lightning.draw(frame, t)
        self.finish.apply(frame, index)
        return frame
