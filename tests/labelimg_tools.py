"""LabelImg 1.8.6's own annotation writers and readers (PyPI ``labelimg``, installed with ``--no-deps`` from
``requirements-test-nodeps.txt``), so that formats are checked against what the tool really writes and opens.

LabelImg's ``libs/pascal_voc_io.py``, ``libs/yolo_io.py`` and ``libs/create_ml_io.py`` import only lxml and
``libs.constants``: they load without Qt. Two things of LabelImg's GUI cannot run here (no PyQt5, no display)
and are reproduced: ``LabelFile.convert_points_to_bnd_box`` (the integer box LabelImg saves from the points
of a drawn rectangle: coordinates truncated to int, minimum 1) in ``labelimg_box``, and the ``QImage`` that
``YoloReader`` asks for the image size (``height()``, ``width()``, ``isGrayscale()``), mocked by ``ImageSize``.
"""
from pathlib import Path

from libs.create_ml_io import CreateMLReader, CreateMLWriter
from libs.pascal_voc_io import PascalVocReader, PascalVocWriter
from libs.yolo_io import YoloReader, YOLOWriter

__all__ = ["CreateMLReader", "ImageSize", "PascalVocReader", "YoloReader", "labelimg_box", "read_labelimg",
           "write_labelimg"]


class ImageSize:
    """Mock of the Qt ``QImage`` LabelImg's ``YoloReader`` reads the image size from (Qt cannot run here)."""

    def __init__(self, width, height, grayscale=False):
        self._width, self._height, self._grayscale = width, height, grayscale

    def width(self):
        return self._width

    def height(self):
        return self._height

    def isGrayscale(self):  # noqa: N802 - Qt's name
        return self._grayscale


def labelimg_box(xmin, ymin, xmax, ymax):
    """The integer box LabelImg saves for a rectangle drawn with these corners (``convert_points_to_bnd_box``)."""
    return max(int(xmin), 1), max(int(ymin), 1), int(xmax), int(ymax)


def write_labelimg(fmt, image_path, width, height, objects, classes, save_dir=None, createml_file=None):
    """Save one image's objects ``[(name, xmin, ymin, xmax, ymax, difficult)]`` as LabelImg's GUI does.

    ``fmt`` is ``voc`` (``<stem>.xml``), ``yolo`` (``<stem>.txt`` + ``classes.txt``; ``classes`` is LabelImg's
    class list, extended in place) or ``createml`` (``<stem>.json``, or ``createml_file`` when the user saved
    several images to one name: LabelImg's writer merges the entries). Files go to ``save_dir`` (LabelImg's
    *Change Save Dir*), default the image's folder. Returns the annotation path.
    """
    image_path = Path(image_path)
    folder = Path(save_dir) if save_dir else image_path.parent
    folder.mkdir(parents=True, exist_ok=True)  # LabelImg's save folder exists: the user chose it
    size = [height, width, 3]
    if fmt == "createml":
        target = Path(createml_file) if createml_file else folder / f"{image_path.stem}.json"
        shapes = [{"label": name, "points": [(x0, y0), (x1, y0), (x1, y1), (x0, y1)], "difficult": difficult}
                  for name, x0, y0, x1, y1, difficult in objects]
        CreateMLWriter(image_path.parent.name, image_path.name, size, shapes, str(target),
                       local_img_path=str(image_path)).write()
        return target
    writer_class = PascalVocWriter if fmt == "voc" else YOLOWriter
    writer = writer_class(image_path.parent.name, image_path.name, size, local_img_path=str(image_path))
    for name, x0, y0, x1, y1, difficult in objects:
        writer.add_bnd_box(*labelimg_box(x0, y0, x1, y1), name, int(difficult))
    if fmt == "voc":
        target = folder / f"{image_path.stem}.xml"
        writer.save(target_file=str(target))
    else:
        target = folder / f"{image_path.stem}.txt"
        writer.save(class_list=classes, target_file=str(target))
    return target


def read_labelimg(fmt, annotation_path, image_path, width, height):
    """Shapes as LabelImg opens them: ``[(label, [(x, y) x 4], None, None, difficult)]``."""
    if fmt == "voc":
        return PascalVocReader(str(annotation_path)).get_shapes()
    if fmt == "yolo":
        return YoloReader(str(annotation_path), ImageSize(width, height)).get_shapes()
    return CreateMLReader(str(annotation_path), str(image_path)).get_shapes()
