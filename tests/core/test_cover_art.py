import io

import pytest
from PIL import Image

from core.cover_art import cover_png


@pytest.mark.parametrize("size", [64, 300, 512])
def test_cover_is_a_png_of_the_asked_size(size):
    data = cover_png("Midnight Drive on the Coast Road", subtitle="Mira Lane", size=size)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.format == "PNG" and image.size == (size, size) and image.mode == "RGB"


def test_same_title_same_cover_other_title_other_cover():
    assert cover_png("Blue Hour", size=128) == cover_png("Blue Hour", size=128)
    assert cover_png("Blue Hour", size=128) != cover_png("Red Hour", size=128)
    assert cover_png("Blue Hour", size=128, seed="a") != cover_png("Blue Hour", size=128, seed="b")


def test_cover_is_not_a_flat_colour_and_carries_the_title():
    with Image.open(io.BytesIO(cover_png("Title", size=256, seed="s"))) as image:
        colours = image.getcolors(maxcolors=256 * 256)
        assert colours is None or len(colours) > 50
        # The same seed draws the same background: only the words differ.
        with Image.open(io.BytesIO(cover_png("Other words", size=256, seed="s"))) as other:
            assert image.getpixel((5, 5)) == other.getpixel((5, 5))
            assert image.tobytes() != other.tobytes()


@pytest.mark.parametrize("size", [0, 10, 5000, 12.5])
def test_bad_sizes_are_refused(size):
    with pytest.raises(ValueError):
        cover_png("x", size=size)
