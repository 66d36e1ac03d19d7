"""Find a split's TFRecords in a preprocess output folder, sharded or not.

The preprocess step writes ``<split>.record`` (1 shard, the default) or ``<split>.record-0000i-of-0000N``
(edgetpu_detector.tfrecord.writer). TFRecord files are sequences of self-delimiting records, so the shards
concatenated byte for byte form one valid TFRecord file: ``record_file`` does that for consumers that
take one file (evaluation, calibration), in the consumer's own copy of the folder.
"""
from __future__ import annotations

from pathlib import Path
import re
import shutil


def shard_paths(output_dir, split: str, num_shards: int = 1) -> list[Path]:
    """The TFRecord file names of a split: ``[<split>.record]`` or ``<split>.record-0000i-of-0000N``.

    Raises:
        ValueError: num_shards < 1.
    """
    if num_shards < 1:
        raise ValueError(f"num_shards must be >= 1, got {num_shards}")
    output_dir = Path(output_dir)
    if num_shards == 1:
        return [output_dir / f"{split}.record"]
    return [output_dir / f"{split}.record-{i:05d}-of-{num_shards:05d}" for i in range(num_shards)]


def record_files(data_dir, split: str) -> list[Path]:
    """``[<split>.record]`` when it exists, else its shards in order.

    Raises:
        FileNotFoundError: naming the folder when the split has no TFRecord, or a shard is missing.
    """
    data_dir = Path(data_dir)
    single = data_dir / f"{split}.record"
    if single.is_file():
        return [single]
    pattern = re.compile(rf"^{re.escape(split)}\.record-(\d{{5}})-of-(\d{{5}})$")
    shards = sorted(p for p in data_dir.iterdir() if pattern.match(p.name)) if data_dir.is_dir() else []
    if not shards:
        raise FileNotFoundError(f"{data_dir}: no {split}.record or {split}.record-*-of-* shards")
    total = int(pattern.match(shards[0].name).group(2))
    if len(shards) != total:
        raise FileNotFoundError(f"{data_dir}: {len(shards)} of {total} {split}.record shards present")
    return shards


def record_file(data_dir, split: str) -> Path:
    """One TFRecord file holding the whole split: ``<split>.record``, written from the shards when needed.

    Raises:
        FileNotFoundError: see ``record_files``.
    """
    files = record_files(data_dir, split)
    if len(files) == 1:
        return files[0]
    target = Path(data_dir) / f"{split}.record"
    with target.open("wb") as out:
        for shard in files:
            with shard.open("rb") as handle:
                shutil.copyfileobj(handle, out)
    return target
