"""A generated Pascal VOC corpus holding every dataset defect the preprocess step handles (edgetpu_detector.data.issues).

``make_defect_corpus(folder)`` writes the files and returns the number of boxes written in all the XML
files that can be parsed (the "boxes in" of the accounting). Everything is generated here: no real
data is copied.
"""
from __future__ import annotations

import io
from pathlib import Path
import struct
import zlib

import numpy as np
from PIL import Image

from edgetpu_detector.data.formats.labelimg_writers import voc_xml

W, H = 100, 80


def jpeg(path: Path, size=(W, H), mode="RGB", exif=None, colour=(120, 60, 30)) -> None:
    image = Image.new("RGB", size, colour)
    if mode != "RGB":
        image = image.convert(mode)
    kwargs = {"exif": exif} if exif is not None else {}
    image.save(path, format="JPEG", quality=90, **kwargs)


def png(path: Path, image: Image.Image) -> None:
    image.save(path, format="PNG")


def huge_png_header(path: Path, width: int = 12_000, height: int = 12_000) -> None:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb's shape)."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    ihdr = 8 + 8  # signature, then length + type of the IHDR chunk
    data[ihdr:ihdr + 8] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[12:ihdr + 13]))
    data[ihdr + 13:ihdr + 17] = struct.pack(">I", crc)
    path.write_bytes(bytes(data))


def xml(path: Path, filename, objects, size=(W, H)) -> None:
    path.write_bytes(voc_xml("corpus", filename, size[0], size[1], objects))


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">]>
<annotation><filename>&lol9;</filename><size><width>100</width><height>80</height></size>
<object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>
</annotation>
"""


def xxe(target: Path) -> bytes:
    return (f'<?xml version="1.0"?>\n<!DOCTYPE annotation [<!ENTITY leak SYSTEM "file://{target}">]>\n'
            f'<annotation><filename>&leak;</filename><size><width>100</width><height>80</height></size>'
            f'</annotation>\n').encode()


def raw_object_xml(path: Path, filename: str, object_xml: str) -> None:
    path.write_text(f"<annotation><filename>{filename}</filename><size><width>{W}</width><height>{H}</height>"
                    f"<depth>3</depth></size>{object_xml}</annotation>", encoding="utf-8")


def make_defect_corpus(folder: Path, secret: Path) -> int:
    """Write the corpus into ``folder`` (``secret``: a file outside it that must never be read)."""
    folder.mkdir(parents=True)
    boxes = 0
    # --- files
    jpeg(folder / "good.jpg")
    xml(folder / "good.xml", "good.jpg", [("cat", 10, 10, 50, 50), ("dog", 20, 20, 60, 70)]); boxes += 2
    xml(folder / "missing.xml", "missing.jpg", [("cat", 1, 1, 20, 20)]); boxes += 1
    jpeg(folder / "orphan.jpg")
    jpeg(folder / "renamed.jpg")
    xml(folder / "renamed.xml", "old_name.jpg", [("cat", 5, 5, 30, 30)]); boxes += 1
    jpeg(folder / "shared.jpg")
    xml(folder / "dup_a.xml", "shared.jpg", [("cat", 5, 5, 30, 30)]); boxes += 1
    xml(folder / "dup_b.xml", "shared.jpg", [("dog", 5, 5, 30, 30), ("dog", 40, 40, 60, 60)]); boxes += 2
    jpeg(folder / "my cat#1=\u00fc.jpg")
    xml(folder / "my cat#1=\u00fc.xml", "my cat#1=\u00fc.jpg", [("cat", 5, 5, 30, 30)]); boxes += 1
    xml(folder / "escape.xml", "../secret.jpg", [("cat", 5, 5, 30, 30)]); boxes += 1
    (folder / "link.jpg").symlink_to(secret)
    xml(folder / "link.xml", "link.jpg", [("cat", 5, 5, 30, 30)]); boxes += 1
    (folder / "broken.xml").write_bytes(b"<annotation><size>")
    jpeg(folder / "broken.jpg")
    (folder / "bomb.xml").write_bytes(BILLION_LAUGHS)
    (folder / "xxe.xml").write_bytes(xxe(secret))
    # --- images
    noise = np.random.default_rng(0).integers(0, 255, (H, W, 3), dtype=np.uint8)
    Image.fromarray(noise).save(folder / "truncated.jpg", format="JPEG", quality=90)
    data = (folder / "truncated.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(data[: int(len(data) * 0.8)])  # header intact, scan data cut
    xml(folder / "truncated.xml", "truncated.jpg", [("cat", 5, 5, 30, 30)]); boxes += 1
    (folder / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg" * 10)
    xml(folder / "corrupt.xml", "corrupt.jpg", [("cat", 5, 5, 30, 30)]); boxes += 1
    huge_png_header(folder / "huge.png")
    xml(folder / "huge.xml", "huge.png", [("cat", 5, 5, 30, 30)]); boxes += 1
    png(folder / "pngjpg.jpg", Image.new("RGB", (W, H), (10, 200, 30)))
    xml(folder / "pngjpg.xml", "pngjpg.jpg", [("cat", 5, 5, 30, 30)]); boxes += 1
    png(folder / "rgba.png", Image.new("RGBA", (W, H), (10, 200, 30, 128)))
    png(folder / "la.png", Image.new("LA", (W, H), (90, 255)))
    png(folder / "p.png", Image.new("P", (W, H), 3))
    jpeg(folder / "cmyk.jpg", mode="CMYK")
    png(folder / "i16.png", Image.fromarray(np.full((H, W), 40000, np.uint16)))
    jpeg(folder / "gray.jpg", mode="L")
    for stem, ext in (("rgba", "png"), ("la", "png"), ("p", "png"), ("cmyk", "jpg"), ("i16", "png"), ("gray", "jpg")):
        xml(folder / f"{stem}.xml", f"{stem}.{ext}", [("cat", 5, 5, 30, 30)]); boxes += 1
    jpeg(folder / "small.jpg", size=(64, 48))
    xml(folder / "small.xml", "small.jpg", [("cat", 1, 1, 30, 30)], size=(640, 480)); boxes += 1
    exif = Image.Exif()
    exif[0x0112] = 6
    jpeg(folder / "rotated.jpg", exif=exif)
    xml(folder / "rotated.xml", "rotated.jpg", [("cat", 10, 10, 60, 60)], size=(H, W)); boxes += 1
    jpeg(folder / "stored.jpg", exif=exif)
    xml(folder / "stored.xml", "stored.jpg", [("cat", 10, 10, 60, 60)], size=(W, H)); boxes += 1
    # --- boxes
    jpeg(folder / "boxes.jpg")
    xml(folder / "boxes.xml", "boxes.jpg", [
        ("cat", 10.25, 10.5, 40.75, 30),   # float: kept as written
        ("cat", -10, 5, 50, 90),           # outside: clipped
        ("dog", 70, 60, 20, 10),           # inverted: swapped
        ("dog", 30, 30, 30, 60),           # zero width: skipped
        ("dog", 120, 10, 150, 30),         # entirely outside: skipped
    ]); boxes += 5
    jpeg(folder / "nan.jpg")
    raw_object_xml(folder / "nan.xml", "nan.jpg",
                   "<object><name>cat</name><bndbox><xmin>nan</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>"
                   "<object><name>cat</name><bndbox><xmin>1</xmin><ymin>x</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>"
                   "<object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax></bndbox></object>"
                   "<object><name>cat</name><bndbox><xmin>2</xmin><ymin>2</ymin><xmax>9</xmax><ymax>9</ymax></bndbox></object>"); boxes += 4
    jpeg(folder / "polygon.jpg")
    raw_object_xml(folder / "polygon.xml", "polygon.jpg",
                   "<object><name>dog</name><polygon><x1>10</x1><y1>20</y1><x2>40</x2><y2>15</y2><x3>30</x3><y3>50</y3>"
                   "</polygon></object>"
                   "<object><name>dog</name><polygon><pt><x>5</x><y>6</y></pt><pt><x>25</x><y>30</y></pt></polygon></object>"
                   "<object><name>dog</name></object>"); boxes += 3
    # --- labels
    jpeg(folder / "labels.jpg")
    xml(folder / "labels.xml", "labels.jpg", [("Cat ", 5, 5, 30, 30), ("CAT", 40, 40, 60, 60), ("", 1, 1, 9, 9)]); boxes += 3
    jpeg(folder / "empty.jpg")
    xml(folder / "empty.xml", "empty.jpg", []); boxes += 0
    return boxes
