"""Generated cover images (PNG) for songs and albums that have no artwork: a two-colour
gradient, a few translucent shapes and the title, all drawn from a seed so the same title gets
the same cover every time (demo data, placeholders)."""

import colorsys
import hashlib
import io
import textwrap

from PIL import Image, ImageDraw, ImageFont

MIN_SIZE, MAX_SIZE = 64, 2048


def _rng_bytes(seed: str) -> bytes:
    return hashlib.sha256(seed.encode("utf-8")).digest()


def _colour(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(hue % 1.0, saturation, value)
    return int(r * 255), int(g * 255), int(b * 255)


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def cover_png(title: str, *, subtitle: str = "", size: int = 512, seed: str | None = None) -> bytes:
    """A ``size`` x ``size`` PNG cover with ``title`` (and ``subtitle``) written on it.

    ``seed`` picks the colours and shapes (the title when not given)."""
    if not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be an integer between {MIN_SIZE} and {MAX_SIZE}")
    digest = _rng_bytes(seed if seed is not None else f"{title}\n{subtitle}")
    hue = digest[0] / 255
    top = _colour(hue, 0.55 + digest[1] / 1000, 0.85)
    bottom = _colour(hue + 0.12 + digest[2] / 1500, 0.75, 0.25 + digest[3] / 1200)

    # A vertical gradient: one column of blended colours, stretched across.
    column = Image.new("RGB", (1, size))
    for y in range(size):
        t = y / max(1, size - 1)
        column.putpixel(
            (0, y), tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        )
    image = column.resize((size, size)).convert("RGBA")

    shapes = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(shapes)
    for i in range(5):
        a, b, c, d = digest[4 + 4 * i : 8 + 4 * i]
        cx, cy = a / 255 * size, b / 255 * size
        radius = (0.08 + c / 255 * 0.3) * size
        fill = (*_colour(hue + d / 600, 0.4, 1.0), 50 + d % 60)
        box = (cx - radius, cy - radius, cx + radius, cy + radius)
        if i % 2:
            draw.ellipse(box, fill=fill)
        else:
            draw.rectangle(box, fill=fill)
    image = Image.alpha_composite(image, shapes)

    draw = ImageDraw.Draw(image)
    margin = size // 12
    title_font = _font(max(10, size // 10))
    lines = textwrap.wrap(title.strip() or "Untitled", width=16)[:3]
    y = size - margin
    if subtitle:
        sub_font = _font(max(8, size // 20))
        top_edge = draw.textbbox((0, 0), subtitle, font=sub_font)
        y -= top_edge[3] - top_edge[1]
        draw.text((margin, y), subtitle, font=sub_font, fill=(255, 255, 255, 220))
        y -= size // 40
    for line in reversed(lines):
        box = draw.textbbox((0, 0), line, font=title_font)
        y -= box[3] - box[1] + size // 60
        draw.text((margin + 2, y + 2), line, font=title_font, fill=(0, 0, 0, 120))
        draw.text((margin, y), line, font=title_font, fill=(255, 255, 255, 255))

    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
