"""The devices a detector trains on: what the ``train/devices`` tag records and the one console line that says
CPU or GPU."""
from dataclasses import asdict, dataclass
import json
import os

import tensorflow as tf

# CPU features that matter to training speed (Linux /proc/cpuinfo flag names).
CPU_FEATURES = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16")


@dataclass(frozen=True)
class Device:
    """One device: ``kind`` ``"GPU"`` or ``"CPU"``; ``name`` its model; ``compute_capability`` ``"8.0"`` (CUDA,
    GPUs only); ``memory_bytes`` what TensorFlow may use on it (GPU) or the machine's RAM (CPU); ``cores`` and
    ``features`` (``CPU_FEATURES`` present) for a CPU."""

    kind: str
    name: str
    compute_capability: str = None
    memory_bytes: int = None
    cores: int = None
    features: tuple = ()


@dataclass(frozen=True)
class TrainingDevices:
    """The devices of one training run (one per replica on GPUs; the CPU once however many replicas)."""

    devices: tuple

    @property
    def kind(self):
        """``"GPU"`` when training runs on GPUs, else ``"CPU"``."""
        return "GPU" if any(d.kind == "GPU" for d in self.devices) else "CPU"

    @property
    def gpu_compute_capabilities(self):
        """``[(major, minor), ...]`` of the GPUs (empty on a CPU)."""
        return [tuple(int(p) for p in d.compute_capability.split(".")) for d in self.devices
                if d.kind == "GPU" and d.compute_capability]

    def tag(self):
        """The ``train/devices`` tag: JSON ``{"kind", "count", "devices": [{"kind", "name", "compute_capability",
        "memory_bytes", ...}]}``."""
        return json.dumps({"kind": self.kind, "count": len(self.devices),
                           "devices": [{k: v for k, v in asdict(d).items() if v not in (None, ())}
                                       for d in self.devices]}, sort_keys=True)

    def line(self, precision, batch_size, replicas):
        """One console line: ``retrain: training on GPU: 2 x NVIDIA A100 (compute capability 8.0, 40.0 GiB),
        mixed_float16, global batch 16 = 2 x 8``."""
        groups = {}
        for d in self.devices:
            groups.setdefault(_describe(d), []).append(d)
        what = ", ".join(f"{len(g)} x {text}" if len(g) > 1 else text for text, g in groups.items())
        batch = f"batch {batch_size}" if replicas == 1 else \
            f"global batch {batch_size} = {replicas} x {batch_size // replicas}"
        return f"retrain: training on {self.kind}: {what}, {precision}, {batch}"


def _describe(device):
    memory = f"{device.memory_bytes / 2 ** 30:.1f} GiB" if device.memory_bytes else None
    if device.kind == "GPU":
        details = [f"compute capability {device.compute_capability}" if device.compute_capability else None, memory]
    else:
        details = [f"{device.cores} cores" if device.cores else None, memory, " ".join(device.features) or None]
    details = [d for d in details if d]
    return f"{device.name} ({', '.join(details)})" if details else device.name


def cpu_device(cpuinfo_path="/proc/cpuinfo"):
    """This machine's CPU as a Device: model name and feature flags from ``cpuinfo_path`` (Linux; elsewhere the
    platform's name), usable cores (``os.sched_getaffinity``), physical memory (``os.sysconf``)."""
    name, flags = "CPU", set()
    try:
        with open(cpuinfo_path) as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and name == "CPU":
                    name = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count()
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = None
    return Device(kind="CPU", name=name, memory_bytes=memory, cores=cores,
                  features=tuple(f for f in CPU_FEATURES if f in flags))


def _gpu_memory_limits():
    """{logical device name: bytes TensorFlow may allocate} of the GPUs (``device_lib``), {} if unavailable."""
    try:
        from tensorflow.python.client import device_lib
        return {d.name: int(d.memory_limit) for d in device_lib.list_local_devices() if d.device_type == "GPU"}
    except Exception:  # a private API: never fail training over a description
        return {}


def gpu_devices(count=None):
    """The first ``count`` visible GPUs (all when None) as Devices: name and compute capability from
    ``tf.config.experimental.get_device_details``, memory from TensorFlow's device list."""
    gpus = tf.config.list_physical_devices("GPU")[:count]
    memory = _gpu_memory_limits() if gpus else {}
    devices = []
    for index, gpu in enumerate(gpus):
        details = tf.config.experimental.get_device_details(gpu)
        capability = details.get("compute_capability")
        devices.append(Device(kind="GPU", name=details.get("device_name", gpu.name),
                              compute_capability=".".join(map(str, capability)) if capability else None,
                              memory_bytes=memory.get(f"/device:GPU:{index}")))
    return devices


def training_devices(strategy):
    """The devices ``strategy`` trains on: its GPU replicas (one GPU for the default strategy), else the CPU.

    Args:
      strategy: a ``tf.distribute.Strategy`` (``edgetpu_detector.training.strategy.make_strategy``).

    Returns:
      TrainingDevices.
    """
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return TrainingDevices((cpu_device(),))
    try:
        count = sum("GPU" in name.upper() for name in strategy.extended.worker_devices)
    except (RuntimeError, NotImplementedError):  # the default strategy: one device, GPU:0
        count = 1
    return TrainingDevices(tuple(gpu_devices(max(count, 1))))
