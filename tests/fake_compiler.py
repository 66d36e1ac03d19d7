"""A stand-in for Coral's ``edgetpu_compiler``, which cannot be installed here (an x86-64 Debian package, not in
CI): a script that records its arguments, honours ``-o`` / ``-n``, writes the files the real compiler writes --
the model re-packed without its metadata, as the real compiler leaves it -- and prints the summary of a real
compiler log. Tests that use it say so.
"""
import os
import textwrap

# A compiler log in the layout of Edge TPU Compiler 16 (summary printed with -s, then the operator table).
COMPILER_LOG = textwrap.dedent("""\
    Edge TPU Compiler version 16.0.384591198
    Started a compilation timeout timer of 600 seconds.

    Model compiled successfully in 1531 ms.

    Input model: model_int8.tflite
    Input size: 3.53MiB
    Output model: model_int8_edgetpu.tflite
    Output size: 3.87MiB
    On-chip memory used for caching model parameters: 3.41MiB
    On-chip memory remaining for caching model parameters: 4.37MiB
    Off-chip memory used for streaming uncached model parameters: 0.00B
    Number of Edge TPU subgraphs: 1
    Total number of operations: 119
    Operation log: model_int8_edgetpu.log

    Model successfully compiled but not all operations are supported by the Edge TPU. A percentage of the model will instead run on the CPU, which is slower. If possible, consider updating your model to use only operations supported by the Edge TPU. For details, visit g.co/coral/model-reqs.
    Number of operations that will run on Edge TPU: 116
    Number of operations that will run on CPU: 3

    Operator                       Count      Status

    DEPTHWISE_CONV_2D              33         Mapped to Edge TPU
    CONV_2D                        55         Mapped to Edge TPU
    DEQUANTIZE                     2          Operation is working on an unsupported data type
    CUSTOM                         1          Operation is working on an unsupported data type
    QUANTIZE                       1          Mapped to Edge TPU
    MUL                            1          Mapped to Edge TPU
    ADD                            11         Mapped to Edge TPU
    RESHAPE                        12         Mapped to Edge TPU
    CONCATENATION                  2          Mapped to Edge TPU
    LOGISTIC                       1          Mapped to Edge TPU
    Compilation child process completed within timeout period.
    Compilation succeeded!
    """)

# Mock of the absent Edge TPU compiler: records its argv, honours -o / -n, copies the model to the files the
# real compiler writes, prints the summary above; sleeps when FAKE_COMPILER_SLEEP is set.
FAKE_COMPILER = textwrap.dedent("""\
    #!/usr/bin/env python3
    import os, sys, time
    from pathlib import Path
    args = sys.argv[1:]
    with open(os.environ["FAKE_COMPILER_ARGS"], "a") as f:
        f.write(" ".join(args) + "\\n")
    time.sleep(float(os.environ.get("FAKE_COMPILER_SLEEP", "0")))
    out = Path(args[args.index("-o") + 1])
    model = Path(args[-1])
    n = int(args[args.index("-n") + 1]) if "-n" in args else 1
    names = [f"{model.stem}_edgetpu.tflite"] if n == 1 else [
        f"{model.stem}_segment_{i}_of_{n}_edgetpu.tflite" for i in range(n)]
    data = model.read_bytes()
    try:  # the real compiler drops the TFLite Model Metadata and any packed files
        from ai_edge_litert import schema_py_generated as schema
        import flatbuffers
        flat = schema.ModelT.InitFromObj(schema.Model.GetRootAs(bytearray(data), 0))
        flat.metadata = [m for m in flat.metadata or [] if m.name != b"TFLITE_METADATA"]
        builder = flatbuffers.Builder(1024)
        builder.Finish(flat.Pack(builder), file_identifier=b"TFL3")
        data = bytes(builder.Output())
    except Exception:  # a placeholder file of a test, not a real model
        pass
    for name in names:
        (out / name).write_bytes(data)
    log = Path(os.environ["FAKE_COMPILER_LOG"]).read_text()
    (out / f"{model.stem}_edgetpu.log").write_text(log[log.index("Operator   "):])
    print(log[:log.index("Operator   ")])
    """)


def install_fake_compiler(folder, monkeypatch):
    """Put the fake ``edgetpu_compiler`` first on PATH (via ``monkeypatch``); return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "edgetpu_compiler"
    script.write_text(FAKE_COMPILER)
    script.chmod(0o755)
    (folder / "log.txt").write_text(COMPILER_LOG)
    monkeypatch.setenv("FAKE_COMPILER_ARGS", str(folder / "args.txt"))
    monkeypatch.setenv("FAKE_COMPILER_LOG", str(folder / "log.txt"))
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return script


