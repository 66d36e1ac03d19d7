"""Write a split's TFRecords (optionally sharded) and CSV, encoding images in parallel, in bounded memory.

* Parallel: images are decoded/encoded by ``num_workers`` processes (``spawn``: workers never import
  TensorFlow, see edgetpu_detector.tfrecord.encoder) in chunks of ``CHUNK`` records; results come back in input
  order, so the output does not depend on the number of workers.
* Bounded memory: at most ``2 * num_workers`` chunks are in flight; each result is written as soon as
  it arrives, so memory does not grow with the number of images.
* Shards: with ``num_shards`` > 1, example i goes to shard ``i % num_shards`` of files named
  ``<split>.record-00000-of-0000N`` (the TF OD API's ``open_sharded_output_tfrecords`` names);
  with 1 shard the file is ``<split>.record``.
* An image that fails to decode is skipped (its boxes counted as skipped) and reported.
"""
from __future__ import annotations

from collections import deque
from concurrent.futures import ProcessPoolExecutor
import csv
from dataclasses import dataclass, field
from functools import partial
import multiprocessing
import os
from pathlib import Path

from edgetpu_detector.images.decode import DEFAULT_MAX_PIXELS
from edgetpu_detector.tfrecord.encoder import encode_chunk
from edgetpu_detector.tfrecord.records import ImageRecord
from edgetpu_detector.tfrecord.shards import shard_paths

CHUNK = 8
CSV_COLUMNS = ("filename", "width", "height", "class", "xmin", "ymin", "xmax", "ymax")


def default_workers() -> int:
    """CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class SplitWritten:
    """What ``write_split`` wrote: record paths, CSV path, the records written (metadata only), and the
    skipped ones as ``(record, code, problem)``."""

    record_paths: list[Path]
    csv_path: Path
    written: list[ImageRecord] = field(default_factory=list)
    skipped: list[tuple] = field(default_factory=list)
    passthrough: int = 0


def _format_number(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def csv_rows(record: ImageRecord):
    """The tutorials' CSV rows of one record (``CSV_COLUMNS``; integers written as integers)."""
    for box in record.boxes:
        yield [record.filename, record.width, record.height, box.label] + [
            _format_number(v) for v in (box.xmin, box.ymin, box.xmax, box.ymax)]


class EncoderPool:
    """Context manager owning the worker processes (``num_workers`` 0 or None: one per CPU core; 1: none,
    encodes in-process)."""

    def __init__(self, num_workers: int | None = None):
        self.num_workers = default_workers() if not num_workers else max(1, int(num_workers))
        self.executor = None

    def __enter__(self):
        if self.num_workers > 1:
            self.executor = ProcessPoolExecutor(self.num_workers, mp_context=multiprocessing.get_context("spawn"))
        return self

    def __exit__(self, *exc):
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None

    def map_ordered(self, records: list[ImageRecord], names_to_ids: dict, max_pixels: int):
        """Yield ``(record, Encoded)`` in input order, with bounded look-ahead."""
        work = partial(encode_chunk, names_to_ids=names_to_ids, max_pixels=max_pixels)
        chunks = (records[i:i + CHUNK] for i in range(0, len(records), CHUNK))
        if self.executor is None:
            for chunk in chunks:
                yield from zip(chunk, work(chunk))
            return
        pending: deque = deque()
        for chunk in chunks:
            pending.append((chunk, self.executor.submit(work, chunk)))
            if len(pending) >= 2 * self.num_workers:
                done_chunk, future = pending.popleft()
                yield from zip(done_chunk, future.result())
        while pending:
            done_chunk, future = pending.popleft()
            yield from zip(done_chunk, future.result())


def write_split(records: list[ImageRecord], names_to_ids: dict[str, int], output_dir, split: str,
                pool: EncoderPool, num_shards: int = 1, max_pixels: int = DEFAULT_MAX_PIXELS,
                progress: bool = False) -> SplitWritten:
    """Encode and write one split: TFRecord shard(s) and ``<split>_labels.csv`` (rows of written images only).

    Returns:
        SplitWritten. Files are byte-identical for the same records, whatever ``pool.num_workers``.

    Raises:
        ValueError: num_shards < 1. Partly written files are removed on any exception.
    """
    import tensorflow as tf

    import edgetpu_detector.core.env  # noqa: F401  (quiet TensorFlow before importing it)

    output_dir = Path(output_dir)
    paths = shard_paths(output_dir, split, num_shards)
    csv_path = output_dir / f"{split}_labels.csv"
    result = SplitWritten(record_paths=paths, csv_path=csv_path)
    iterator = pool.map_ordered(records, names_to_ids, max_pixels)
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, total=len(records), desc=f"{split}.record", unit="img")
    writers = []
    try:
        writers = [tf.io.TFRecordWriter(str(p)) for p in paths]
        with csv_path.open("w", encoding="utf-8", newline="") as handle:
            rows = csv.writer(handle, lineterminator="\n")
            rows.writerow(CSV_COLUMNS)
            index = 0
            for record, encoded in iterator:
                if encoded.serialized is None:
                    result.skipped.append((record, encoded.code, encoded.problem))
                    continue
                writers[index % num_shards].write(encoded.serialized)
                index += 1
                result.passthrough += int(encoded.passthrough)
                rows.writerows(csv_rows(record))
                result.written.append(record)
    except BaseException:
        for writer in writers:
            writer.close()
        for path in paths + [csv_path]:
            path.unlink(missing_ok=True)
        raise
    for writer in writers:
        writer.close()
    return result
