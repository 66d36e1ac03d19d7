"""Pictures of detections: boxes drawn over the test images, tiled into one contact sheet (Pillow)."""
import math

from PIL import Image, ImageDraw, ImageFont

GROUND_TRUTH_COLOUR = (40, 200, 80)
PREDICTION_COLOUR = (240, 60, 60)


def draw_detections(image, gt_boxes, det_boxes, det_classes, det_scores, ids_to_names, score_threshold=0.3):
    """Draw ground truth (green) and detections at or above ``score_threshold`` (red, with label and score).

    Args:
      image: uint8 [H, W, 3].
      gt_boxes, det_boxes: float [N, 4] ymin, xmin, ymax, xmax normalized.
      det_classes: int [N] label-map ids; det_scores: float [N].
      ids_to_names: dict label-map id -> class name.
      score_threshold: float in [0, 1].

    Returns:
      PIL.Image.Image (RGB).
    """
    picture = Image.fromarray(image).convert("RGB")
    draw = ImageDraw.Draw(picture)
    w, h = picture.size
    font = ImageFont.load_default()
    line = max(1, round(min(w, h) / 200))
    for ymin, xmin, ymax, xmax in gt_boxes:
        draw.rectangle([xmin * w, ymin * h, xmax * w, ymax * h], outline=GROUND_TRUTH_COLOUR, width=line)
    for (ymin, xmin, ymax, xmax), cls, score in zip(det_boxes, det_classes, det_scores):
        if score < score_threshold:
            continue
        draw.rectangle([xmin * w, ymin * h, xmax * w, ymax * h], outline=PREDICTION_COLOUR, width=line)
        label = f"{ids_to_names.get(int(cls), int(cls))} {score:.2f}"
        draw.text((xmin * w + line + 1, ymin * h + line), label, fill=PREDICTION_COLOUR, font=font)
    return picture


def contact_sheet(pictures, tile_width=320, columns=4):
    """Tile pictures (PIL images) into one RGB image, each scaled to ``tile_width`` pixels wide."""
    if not pictures:
        raise ValueError("contact_sheet needs at least one picture")
    tiles = [p.resize((tile_width, max(1, round(p.height * tile_width / p.width)))) for p in pictures]
    columns = min(columns, len(tiles))
    rows = math.ceil(len(tiles) / columns)
    tile_height = max(t.height for t in tiles)
    sheet = Image.new("RGB", (columns * tile_width, rows * tile_height), (255, 255, 255))
    for i, tile in enumerate(tiles):
        sheet.paste(tile, ((i % columns) * tile_width, (i // columns) * tile_height))
    return sheet
