"""Colours of a scene: light by time of day, ground by setting, then a style grade.

Every colour the renderer uses comes from a :class:`Palette`, and the style (noir, pastel,
neon...) is applied here to the palette rather than to each finished frame: grading a dozen
colours once costs nothing, grading two million pixels per frame would cost a full-frame pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from openreel.backends.sketch.plan import Season, Setting, Style, TimeOfDay

__all__ = ["RGB", "Palette", "build_palette", "grade", "light_of", "mix"]

RGB = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class _Light:
    sky_top: RGB
    sky_horizon: RGB
    sun: RGB
    sun_height: float  # screen y of the sun's centre as a fraction of height (0 = top)
    light: tuple[float, float, float]  # multiplies ground colours
    water_deep: RGB
    stars: float  # 0..1 star visibility
    glow: float  # 0..1 strength of the sun or moon glow
    windows: float  # 0..1 how lit windows and lamps are


_LIGHTS: dict[TimeOfDay, _Light] = {
    TimeOfDay.DAWN: _Light(
        (74, 86, 150),
        (252, 186, 160),
        (255, 214, 180),
        0.47,
        (0.85, 0.72, 0.80),
        (40, 56, 96),
        0.15,
        0.65,
        0.5,
    ),
    TimeOfDay.DAY: _Light(
        (58, 126, 214),
        (182, 218, 246),
        (255, 252, 236),
        0.16,
        (1.0, 1.0, 1.0),
        (28, 86, 138),
        0.0,
        0.45,
        0.0,
    ),
    TimeOfDay.GOLDEN_HOUR: _Light(
        (92, 118, 186),
        (255, 196, 120),
        (255, 226, 160),
        0.40,
        (1.0, 0.80, 0.58),
        (46, 74, 112),
        0.0,
        0.85,
        0.2,
    ),
    TimeOfDay.DUSK: _Light(
        (34, 38, 92),
        (232, 120, 110),
        (255, 170, 120),
        0.50,
        (0.55, 0.46, 0.62),
        (24, 28, 60),
        0.45,
        0.6,
        0.9,
    ),
    TimeOfDay.NIGHT: _Light(
        (6, 10, 28),
        (28, 40, 78),
        (236, 236, 220),
        0.20,
        (0.26, 0.30, 0.46),
        (8, 14, 32),
        1.0,
        0.5,
        1.0,
    ),
}

_DAYLIGHT: dict[TimeOfDay, float] = {
    TimeOfDay.DAWN: 0.55,
    TimeOfDay.DAY: 1.0,
    TimeOfDay.GOLDEN_HOUR: 0.7,
    TimeOfDay.DUSK: 0.35,
    TimeOfDay.NIGHT: 0.12,
}

# Ground colours by setting, from far to near, in full daylight.
_GROUND: dict[Setting, tuple[RGB, RGB, RGB]] = {
    Setting.COAST: ((120, 136, 150), (96, 112, 88), (70, 78, 62)),
    Setting.MOUNTAINS: ((132, 146, 172), (92, 104, 122), (58, 78, 62)),
    Setting.DESERT: ((214, 170, 120), (206, 146, 92), (180, 118, 70)),
    Setting.FOREST: ((96, 130, 112), (52, 96, 66), (26, 62, 38)),
    Setting.CITY: ((118, 128, 150), (80, 88, 110), (48, 52, 66)),
    Setting.COUNTRYSIDE: ((130, 164, 120), (94, 150, 78), (66, 122, 56)),
    Setting.LAKE: ((112, 134, 150), (64, 104, 80), (40, 72, 52)),
    Setting.SNOWFIELD: ((206, 218, 236), (226, 234, 244), (240, 244, 250)),
    Setting.SPACE: ((90, 84, 110), (120, 110, 130), (150, 140, 150)),
    Setting.UNDERWATER: ((30, 90, 110), (24, 70, 90), (40, 60, 58)),
    Setting.MARS: ((196, 120, 84), (172, 86, 52), (140, 64, 38)),
    Setting.MOON: ((128, 128, 132), (150, 150, 154), (176, 176, 180)),
}

# Skies of other worlds in full daylight (top, horizon): Mars's dust makes it butterscotch.
_MARS_SKY: tuple[RGB, RGB] = ((210, 168, 126), (240, 210, 170))
_AIRLESS_SKY: tuple[RGB, RGB] = ((2, 3, 10), (8, 8, 16))

_SNOW: RGB = (236, 242, 250)
# What a season does to the ground layers (far, mid, near): a colour and how much of it.
_SEASONS: dict[Season, tuple[tuple[RGB, float], ...]] = {
    Season.AUTUMN: (((196, 124, 56), 0.5), ((196, 92, 30), 0.7), ((124, 72, 40), 0.5)),
    Season.WINTER: ((_SNOW, 0.6), (_SNOW, 0.5), (_SNOW, 0.95)),
    Season.SPRING: (((150, 196, 120), 0.25), ((112, 188, 84), 0.35), ((88, 160, 64), 0.35)),
}
_FOLIAGE: dict[Season, RGB] = {
    Season.AUTUMN: (214, 112, 34),
    Season.WINTER: (226, 234, 244),
    Season.SPRING: (236, 170, 196),  # blossom
}
# What lies on the tops of ridges (tree tips, crests): snow in winter.
_CAPS: dict[Season, RGB] = {Season.WINTER: _SNOW}
_BARE_WORLDS = (Setting.SPACE, Setting.UNDERWATER, Setting.MARS, Setting.MOON)


def light_of(time: TimeOfDay) -> tuple[float, float, float]:
    """What ``time``'s light multiplies daylit colours by, per channel (a grade for footage)."""
    return _LIGHTS[time].light


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """Linear blend from ``a`` (t=0) to ``b`` (t=1)."""
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _lit(color: RGB, light: tuple[float, float, float]) -> RGB:
    return (
        min(255, round(color[0] * light[0])),
        min(255, round(color[1] * light[1])),
        min(255, round(color[2] * light[2])),
    )


def grade(colors: npt.NDArray[np.float32], style: Style) -> npt.NDArray[np.float32]:
    """Applies ``style`` to an array of RGB colours (any shape ending in 3, values 0..255)."""
    c = colors.astype(np.float32)
    luma = (c @ np.array([0.299, 0.587, 0.114], dtype=np.float32))[..., None]
    if style is Style.NOIR:
        c = np.repeat(np.clip((luma - 128.0) * 1.25 + 128.0, 0, 255), 3, axis=-1)
    elif style is Style.PASTEL:
        c = (c - luma) * 0.55 + luma
        c = c * 0.6 + 255 * 0.4
    elif style is Style.NEON:
        c = (c - luma) * 1.6 + luma * 0.8
        c = c * np.array([1.1, 0.8, 1.2], dtype=np.float32)
    elif style is Style.WARM:
        c = c * np.array([1.12, 1.0, 0.82], dtype=np.float32)
    elif style is Style.COLD:
        c = c * np.array([0.84, 0.98, 1.15], dtype=np.float32)
    elif style is Style.VAPORWAVE:
        c = (c - luma) * 0.7 + luma
        c = c * np.array([1.15, 0.78, 1.18], dtype=np.float32) + np.array(
            [18, 0, 24], dtype=np.float32
        )
    return np.clip(c, 0, 255)


@dataclass(frozen=True, slots=True)
class Palette:
    """All colours of one scene, already lit and graded.

    Attributes:
        sky: Sky colour per screen row, shape (height, 3), uint8.
        water: Water colour per screen row from the horizon down, shape (height, 3), uint8.
        ground: Ground layer colours from far to near (hazed toward the horizon colour).
        sun: Colour of the sun or moon disc.
        sun_height: Screen height of the sun as a fraction of the frame.
        silhouette: Colour of subjects standing against the light.
        accent: Bright accent (lamps, windows, beams).
        stars: Star visibility, 0..1.
        glow: Strength of the sun or moon glow, 0..1.
        windows: How lit windows are, 0..1.
        is_night: Whether the moon replaces the sun.
        daylight: How much colour subjects show, 0 (pure silhouette) to 1 (full colour).
        style: The style that graded these colours.
        foliage: Colour of tree crowns for the season (None: the trees' own green).
        caps: Colour on the crests of ridges for the season (snow, autumn gold), or None.
    """

    sky: npt.NDArray[np.uint8]
    water: npt.NDArray[np.uint8]
    ground: tuple[RGB, ...]
    sun: RGB
    sun_height: float
    silhouette: RGB
    accent: RGB
    stars: float
    glow: float
    windows: float
    is_night: bool
    daylight: float
    style: Style
    foliage: RGB | None = None
    caps: RGB | None = None

    def graded(self, color: RGB) -> RGB:
        """Grades one extra colour with the scene's style (for subject details)."""
        out = grade(np.array(color, dtype=np.float32), self.style)
        return (int(out[0]), int(out[1]), int(out[2]))

    def hazed(self, color: RGB, depth: float) -> RGB:
        """Hazes ``color`` toward the horizon colour by ``depth`` (0 near, 1 far)."""
        horizon = (int(self.sky[-1][0]), int(self.sky[-1][1]), int(self.sky[-1][2]))
        return mix(color, horizon, 0.55 * depth)

    def lit(self, color: RGB, depth: float) -> RGB:
        """A subject's detail colour: graded, dimmed toward silhouette by the light, hazed."""
        return self.hazed(mix(self.silhouette, self.graded(color), self.daylight), depth)


def _gradient(top: RGB, bottom: RGB, rows: int, curve: float) -> npt.NDArray[np.float32]:
    t = np.linspace(0.0, 1.0, rows, dtype=np.float32)[:, None] ** curve
    return np.array(top, np.float32) * (1 - t) + np.array(bottom, np.float32) * t


def build_palette(
    setting: Setting,
    time: TimeOfDay,
    style: Style,
    height: int,
    horizon: float,
    season: Season | None = None,
) -> Palette:
    """Builds the colours of a scene.

    Args:
        setting: Decides the ground colours.
        time: Decides the light.
        style: The grade applied to everything.
        height: Frame height in pixels (the sky and water arrays have one row per pixel).
        horizon: Horizon line as a fraction of the height, where sky meets ground or water.
        season: Tints the ground (autumn leaves, snow cover, spring green) and tree crowns.
    """
    light = _LIGHTS[time]
    top, horizon_color = light.sky_top, light.sky_horizon
    if setting is Setting.SPACE:
        top, horizon_color = (2, 3, 12), (14, 12, 36)
    elif setting is Setting.UNDERWATER:
        top = _lit((70, 180, 200), light.light)
        horizon_color = _lit((10, 50, 90), light.light)
    elif setting is Setting.MARS:
        top, horizon_color = (_lit(c, light.light) for c in _MARS_SKY)
    elif setting is Setting.MOON:
        top, horizon_color = _AIRLESS_SKY
    if style is Style.VAPORWAVE and setting not in (Setting.SPACE, Setting.UNDERWATER):
        top, horizon_color = mix((40, 10, 80), top, 0.2), mix((255, 110, 170), horizon_color, 0.2)

    horizon_row = max(1, int(height * horizon))
    sky = np.empty((height, 3), np.float32)
    if setting is Setting.UNDERWATER:
        sky[:] = _gradient(top, horizon_color, height, 0.8)
    else:
        sky[:horizon_row] = _gradient(top, horizon_color, horizon_row, 1.6)
        sky[horizon_row:] = np.array(horizon_color, np.float32)
    water = np.empty((height, 3), np.float32)
    water[:] = np.array(light.water_deep, np.float32)
    below = height - horizon_row
    if below > 0:
        near_horizon = mix(horizon_color, light.water_deep, 0.35)
        water[horizon_row:] = _gradient(near_horizon, light.water_deep, below, 0.6)

    ground_day: tuple[RGB, ...] = _GROUND[setting]
    tint = _SEASONS.get(season) if season is not None and setting not in _BARE_WORLDS else None
    if tint is not None:
        ground_day = tuple(mix(c, t, a) for c, (t, a) in zip(ground_day, tint, strict=True))
    depths = (1.0, 0.55, 0.18)
    # No air on the moon: the far ground is not hazed toward the (black) sky, and sunlight
    # is white whatever the hour (only as bright as the hour's light).
    grey = sum(light.light) / 3
    lighting = (grey, grey, grey) if setting is Setting.MOON else light.light
    haze = 0.15 if setting is Setting.MOON else 0.6
    ground = tuple(
        mix(_lit(c, lighting), horizon_color, haze * d)
        for c, d in zip(ground_day, depths, strict=True)
    )
    silhouette = mix(_lit(ground_day[2], light.light), (10, 10, 18), 0.55)
    accent = (255, 214, 140) if style is not Style.NEON else (255, 80, 220)

    graded_ground = grade(np.array(ground, np.float32), style).astype(np.uint8)
    graded_other = grade(np.array([light.sun, silhouette, accent], np.float32), style).astype(
        np.uint8
    )
    as_rgb = [(int(r), int(g), int(b)) for r, g, b in graded_other]
    seasonal = season is not None and setting not in _BARE_WORLDS
    foliage = _FOLIAGE.get(season) if seasonal and season is not None else None
    cap = _CAPS.get(season) if seasonal and season is not None else None
    caps = None
    if cap is not None:
        lit_cap = grade(np.array(_lit(cap, light.light), np.float32), style)
        caps = (int(lit_cap[0]), int(lit_cap[1]), int(lit_cap[2]))
    return Palette(
        sky=np.ascontiguousarray(grade(sky, style).astype(np.uint8)),
        water=np.ascontiguousarray(grade(water, style).astype(np.uint8)),
        ground=tuple((int(r), int(g), int(b)) for r, g, b in graded_ground),
        sun=as_rgb[0],
        sun_height=light.sun_height,
        silhouette=as_rgb[1],
        accent=as_rgb[2] if style is not Style.NOIR else (235, 235, 235),
        stars=1.0 if setting in (Setting.SPACE, Setting.MOON) else light.stars,
        glow=light.glow,
        windows=light.windows,
        is_night=time is TimeOfDay.NIGHT,
        daylight=_DAYLIGHT[time],
        style=style,
        foliage=foliage,
        caps=caps,
    )
