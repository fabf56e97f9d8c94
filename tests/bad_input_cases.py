"""The cases of the bad-input corpus (see bad_input_files.py for how to add one)."""

from __future__ import annotations

import gzip
import lzma

from bad_input_files import (
    EMPTY_PT,
    EV,
    GOOD,
    JOB_ARGS,
    MD,
    NET,
    PR,
    SYNTH_CSV,
    TR,
    add,
    bomb,
    edit,
    exits_on_unpickle,
    fer_csv,
    ferplus,
    fifo,
    folder,
    job,
    net,
    other_columns,
    png,
    put,
    removed,
    report_covers,
    started_over,
    state_dict,
    torch_save,
    truncated,
    zipped,
)

from ferviz.analysis.parts import MANIFEST, SUMMARY, part_name

# ---------------------------------------------------------------- fer2013 csv
for cmd in (EV, PR):
    add("line 2: 3 pixel values, expected 2304", f"{cmd} {{d}}/f.csv",
        {"f.csv": fer_csv(pixels="1 2 3")})
    add("line 2: unknown emotion code '7'", f"{cmd} {{d}}/f.csv", {"f.csv": fer_csv(emotion="7")})
    add("line 2: Usage 'Validation' is not a FER2013 split", f"{cmd} {{d}}/f.csv",
        {"f.csv": fer_csv(usage="Validation")})
    add("corrupt or truncated", f"{cmd} {{d}}/f.csv.gz", {"f.csv.gz": gzip.compress(GOOD)[:900]})
    add("corrupt or truncated", f"{cmd} {{d}}/f.csv.xz", {"f.csv.xz": lzma.compress(GOOD)[:900]})
for pixels, what in [(" ".join(["7"] * 2305), "2305 pixel values"),
                     (" ".join(["256"] * 2304), "pixel value '256' is not an integer 0-255"),
                     (" ".join(["99999999999999999999"] * 2304), "is not an integer 0-255"),
                     (" ".join(["-1"] * 2304), "pixel value '-1'"),
                     (" ".join(["1.5"] * 2304), "pixel value '1.5'"),
                     (" ".join(["abc"] * 2304), "pixel value 'abc'"),
                     ("", "0 pixel values"),
                     (" ".join(["1"] * 2303) + " 0x10", "pixel value '0x10'"),
                     (" ".join(["12"] * 2304) + " \x00", "line 2:")]:
    add(what, f"{EV} {{d}}/f.csv", {"f.csv": fer_csv(pixels=pixels)})
for emotion in ("-1", "happy", "", "3.0", "1 2", "\xff"):
    add("line 2: unknown emotion code", f"{EV} {{d}}/f.csv", {"f.csv": fer_csv(emotion=emotion)})
for usage in ("", "Train", "Private Test", '"Training', 'Training"', "Test"):
    add("line 2: ", f"{EV} {{d}}/f.csv", {"f.csv": fer_csv(usage=usage)})
for header, what in [("emotion,pixels", "missing column(s) Usage"),
                     ("emotion,Usage,pix", "missing column(s) pixels"),
                     ("emotions,pixels,Usage", "missing column(s) emotion"),
                     ("", "line 1 is blank")]:
    add(what, f"{EV} {{d}}/f.csv", {"f.csv": fer_csv(header=header)})
for sep in (";", "\t", "|"):
    add("missing column(s)", f"{EV} {{d}}/f.csv",
        {"f.csv": fer_csv(sep=sep, header=sep.join(("emotion", "pixels", "Usage")))})
add("the file is empty", f"{EV} {{d}}/f.csv", {"f.csv": b""})
add("line 1 is blank; expected the header", f"{EV} {{d}}/f.csv", {"f.csv": b"\n\n"})
add("no rows", f"{EV} {{d}}/f.csv", {"f.csv": b"emotion,pixels,Usage\n"})
add("no rows", f"{EV} {{d}}/f.csv", {"f.csv": b"emotion,pixels,Usage\n\n\n"})
add("line 3: 4 comma-separated fields", f"{EV} {{d}}/f.csv",
    {"f.csv": GOOD.replace(b"\n1,", b"\n1,2,", 1)})
add("line 3: 2 comma-separated fields", f"{EV} {{d}}/f.csv",
    {"f.csv": GOOD.replace(b",PublicTest", b"", 1)})
add("missing column(s)", f"{EV} {{d}}/f.csv", {"f.csv": png()})
add("missing column(s)", f"{EV} {{d}}/f.csv.gz", {"f.csv.gz": gzip.compress(b"hello\nworld\n")})
add("the file is empty", f"{EV} {{d}}/f.csv.xz", {"f.csv.xz": lzma.compress(b"")})
add("corrupt or truncated", f"{EV} {{d}}/f.csv.gz", {"f.csv.gz": b"\x1f\x8b\x08garbage" * 9})
add("corrupt or truncated", f"{EV} {{d}}/f.csv.xz", {"f.csv.xz": b"\xfd7zXZ\x00garbage" * 9})
add("corrupt or truncated", f"{EV} {{d}}/f.csv.gz", {"f.csv.gz": GOOD})  # not gzip at all
add("corrupt or truncated", f"{EV} {{d}}/f.csv.gz",
    {"f.csv.gz": (lambda z: z[:-8] + bytes(8))(gzip.compress(GOOD))})  # bad CRC
add("corrupt or truncated", f"{EV} {{d}}/f.csv.xz",
    {"f.csv.xz": (lambda z: z[:200] + bytes([z[200] ^ 0x55]) + z[201:])(lzma.compress(GOOD))})
add("unknown split(s) Validation", f"{EV} {{d}}/f.csv --split Validation", {"f.csv": GOOD})
add("no such file or folder", f"{EV} {{d}}/missing.csv")
add("no data given", f"{EV} ''")
add("no images", f"{EV} {{d}}/dir.csv", {"dir.csv/readme.txt": "a folder named like a csv"})

# ---------------------------------------------------------------- FER+ votes and label modes
FP = f"{EV} {{d}}/f.csv --ferplus {{d}}/v.csv"
add("no such file", f"{EV} {{d}}/f.csv --ferplus {{d}}/none.csv", {"f.csv": GOOD})
add("missing FER+ column(s) NF", FP,
    {"f.csv": GOOD, "v.csv": ferplus(header="Usage,Image name,neutral,happiness,surprise,"
                                            "sadness,anger,disgust,fear,contempt,unknown")})
add("line 2: vote counts must be whole numbers", FP,
    {"f.csv": GOOD, "v.csv": ferplus(row="Training,x.png,a,6,0,0,0,0,0,0,0,0")})
add("line 2: vote counts must be whole numbers", FP,
    {"f.csv": GOOD, "v.csv": ferplus(row="Training,x.png,-4,6,0,0,0,0,0,0,0,0")})
add("line 2: vote counts must be whole numbers", FP,
    {"f.csv": GOOD, "v.csv": ferplus(row="Training,x.png,1.5,6,0,0,0,0,0,0,0,0")})
add("2 rows, but fer2013.csv has 3", FP, {"f.csv": GOOD, "v.csv": ferplus(rows=2)})
add("cannot read as a FER+ votes csv", FP, {"f.csv": GOOD, "v.csv": b""})
add("cannot read as a FER+ votes csv", FP, {"f.csv": GOOD, "v.csv": b"\xff\xfe\x00" * 50})
add("needs the FER+ votes file", f"{EV} {{d}}/f.csv --labels ferplus-majority", {"f.csv": GOOD})
for labels in ("bogus", "FER2013", "ferplus", ""):
    add("unknown label mode", f"{EV} {{d}}/f.csv --labels '{labels}'", {"f.csv": GOOD})
    add("unknown label mode", f"{EV} synth --labels '{labels}'")
add("unknown label mode 'majority'; choose fer2013, ferplus-majority, ferplus-dist",
    f"{EV} {{d}}/faces --labels majority", {"faces/happy/a.png": png()})
add("unknown label mode", f"{EV} {{d}}/a.png --labels x", {"a.png": png()})
add("needs a fer2013 csv and its FER+ votes", f"{EV} {{d}}/faces --labels ferplus-dist",
    {"faces/happy/a.png": png()})
add("needs a fer2013 csv and its FER+ votes", f"{EV} synth --labels ferplus-majority")
add("FER+ votes join a fer2013 csv only", f"{EV} synth --ferplus {{d}}/v.csv",
    {"v.csv": ferplus()})

# ---------------------------------------------------------------- image folders and photos
for cmd in (EV, PR):
    add("no images", f"{cmd} {{d}}/faces", {"faces/notes.txt": "no images here"})
    add("faces/happy/b.png: not an image file", f"{cmd} {{d}}/faces",
        {"faces/happy/a.png": png(), "faces/happy/b.png": "text, not a png"})
    add("class folder(s) that name no emotion: smiling", f"{cmd} {{d}}/faces",
        {"faces/smiling/a.png": png()})
add("no images", f"{EV} {{d}}/faces", {"faces/.keep": b""})
add("faces/sad/a.jpg: the file is empty", f"{EV} {{d}}/faces", {"faces/sad/a.jpg": b""})
add("corrupt or truncated", f"{EV} {{d}}/faces", {"faces/sad/a.png": png((200, 200))[:300]})
add("too large", f"{EV} {{d}}/faces", {"faces/sad/a.png": bomb})
add("class folder(s) that name no emotion: gl\\xfcck", f"{EV} {{d}}/faces",
    {"faces/gl\udcfcck/a.png": png()})
add("faces/sad/caf\\xe9.png: not an image file", f"{EV} {{d}}/faces",
    {"faces/sad/caf\udce9.png": b"not an image"})
add("not an image file", f"{EV} {{d}}/caf\udce9.png", {"caf\udce9.png": b"junk"})
add("not an image file", f"{EV} {{d}}/a.png", {"a.png": b"GIF89a but not really"})
add("not an image file", f"{EV} {{d}}/a.txt", {"a.txt": "plain text"})
add("the file is empty", f"{EV} {{d}}/a.jpg", {"a.jpg": b""})
add("corrupt or truncated", f"{EV} {{d}}/a.png", {"a.png": png((300, 300), "RGB")[:200]})
add("too large", f"{EV} {{d}}/big.png", {"big.png": bomb})
add("split test is empty", f"{EV} {{d}}/faces --split test", {"faces/happy/a.png": png()})
add("split Training is empty", f"{EV} {{d}}/a.png --split Training", {"a.png": png()})
add("no such file or folder", f"{EV} {{d}}/gone.png")

# ---------------------------------------------------------------- models
add("neither a file nor a zoo model", f"{MD} {{d}}/none.pt")
add("neither a file nor a zoo model", f"{MD} no_such_zoo_model")
add("a folder, not a model", f"{MD} {{d}}/m", {"m/readme.txt": "not a model"})
add("not a readable model card", f"{MD} {{d}}/m", {"m/card.json": "{broken"})
add("no weights.safetensors beside card.json", f"{MD} {{d}}/m",
    {"m/card.json": '{"arch": "synth_cnn", "name": "m"}'})
add("card.json (card) asks for arch", f"{MD} {{d}}/m",
    {"m/card.json": '{"arch": "net.py:Net", "name": "m"}', "m/net.py": NET.format(out="s"),
     "m/weights.safetensors": b"unread"})
add("holds weights only; give --arch NAME", f"{MD} {{d}}/w.safetensors",
    {"w.safetensors": b"\x08\x00\x00\x00\x00\x00\x00\x00{}      "})
add("not a readable safetensors file", f"{MD} {{d}}/w.safetensors --arch synth_cnn",
    {"w.safetensors": b"junk"})
add("not a readable PyTorch file", f"{MD} {{d}}/w.pt", {"w.pt": b"junk"})
add("not a readable PyTorch file", f"{MD} {{d}}/w.pt --arch synth_cnn", {"w.pt": b"\x80junk"})
add("not a readable PyTorch file", f"{MD} {{d}}/w", {"w": b"PK\x03\x04 not a zip"})
add("refusing to unpickle arbitrary objects", f"{MD} {{d}}/w.pt",
    {"w.pt": torch_save(lambda: __import__("torch").nn.Linear(2, 2))})
add("unpickling it failed (SystemExit", f"{MD} {{d}}/w.pt --trust", {"w.pt": exits_on_unpickle})
add("holds a state dict; say which architecture", f"{MD} {{d}}/w.pt",
    {"w.pt": state_dict("synth_cnn")})
add("the weights do not match the architecture", f"{MD} {{d}}/w.pt --arch cs230_five_layer",
    {"w.pt": state_dict("synth_cnn")})
add("holds no state dict of tensors", f"{MD} {{d}}/w.pt --arch synth_cnn",
    {"w.pt": torch_save(lambda: {"epoch": 3, "lr": 0.1})})
add("unknown architecture", f"{MD} {{d}}/w.pt --arch resnet9000", {"w.pt": state_dict("synth_cnn")})
add("a TorchScript file is a program", f"{MD} {{d}}/m.pt",
    {"m.pt": zipped({"m/code/x.py": b"junk", "m/data.pkl": b"junk"})})
add("not a readable TorchScript file", f"{MD} {{d}}/m.pt --trust",
    {"m.pt": zipped({"m/code/x.py": b"junk", "m/data.pkl": b"junk"})})
add("cannot convert this ONNX model", f"{MD} {{d}}/m.onnx", {"m.onnx": b"not protobuf"})
add("not a readable HDF5 Keras file", f"{MD} {{d}}/m.h5", {"m.h5": b"keras"})
# user architectures (--arch file.py:Class, typed by the user)
UA = f"{MD} {{d}}/w.pt --arch {{d}}/net.py:Net"
add("net.py: importing it failed: SystemExit", UA, {"net.py": "import sys\nsys.exit(0)\n",
                                                     "w.pt": EMPTY_PT})
add("net.py: importing it failed: ZeroDivisionError", UA, {"net.py": "1 / 0\n", "w.pt": EMPTY_PT})
add("net.py: importing it failed: SyntaxError", UA, {"net.py": "def (:\n", "w.pt": EMPTY_PT})
add("no class Net", UA, {"net.py": "x = 1\n", "w.pt": EMPTY_PT})
add("construction failed: SystemExit", UA,
    {"net.py": "import sys\nclass Net:\n    def __init__(self):\n        sys.exit(1)\n",
     "w.pt": EMPTY_PT})
# a KeyboardInterrupt raised by the user's code is its failure (a real Ctrl-C: exit 130)
add("net.py: importing it failed: KeyboardInterrupt", UA,
    {"net.py": "raise KeyboardInterrupt\n", "w.pt": EMPTY_PT})
add("net.py: importing it failed: KeyboardInterrupt", UA,
    {"net.py": "raise KeyboardInterrupt\n", "w.pt": EMPTY_PT}, process=True)
add("construction failed: KeyboardInterrupt: stop", UA,
    {"net.py": "class Net:\n    def __init__(self):\n        raise KeyboardInterrupt('stop')\n",
     "w.pt": EMPTY_PT})
add("builds a Net, not a torch nn.Module", UA, {"net.py": "class Net:\n    pass\n",
                                                 "w.pt": EMPTY_PT})
add("no such file", f"{MD} {{d}}/w.pt --arch {{d}}/missing.py:Net", {"w.pt": EMPTY_PT})
for out, what in [("(s, s)", "returns a tuple, not one tensor"),
                  ("{'out': s}", "returns a dict, not one tensor"),
                  ("s.argmax(1)", "returns int64 values, not scores"),
                  ("s[:1]", "returns shape (1, 7) for 8 faces"),
                  ("s[:, :, None]", "returns shape (8, 7, 1)"),
                  ("s[:, :5]", "outputs 5 classes but its label order has 7"),
                  ("s * float('nan')", "NaN or infinite scores for 8 of 8 test faces"),
                  ("s.view(3, -1)", "forward pass failed on 8 test faces"),
                  ("__import__('sys').exit(0)", "forward pass failed on 8 test faces of "
                                                "1x48x48 (SystemExit"),
                  ("s if len(x) < 9 else s[:1]", "returns shape (1, 7) for 512 faces"),
                  ("s if len(x) < 9 else s.view(3, -1)",
                   "forward pass failed on faces 1-512 of 700"),
                  ("s if len(x) < 9 else torch.full_like(s, float('inf'))",
                   "NaN or infinite scores for 700 of 700 faces")]:
    add(what, UA, net(out))
# sidecar cards and model options
SC = f"{MD} {{d}}/w.pt"
add("w.pt.json (sidecar) asks for arch", SC, {**net("s"), "w.pt.json": '{"arch": "net.py:Net"}'})
add("not a readable JSON card", SC, {"w.pt": EMPTY_PT, "w.pt.json": "{oops"})
add("unknown keys input_szie", SC, {"w.pt": EMPTY_PT, "w.pt.json": '{"input_szie": 64}'})
add("a sidecar card must be a JSON object", SC, {"w.pt": EMPTY_PT, "w.pt.json": "[1, 2]"})
add("arch must be a string, not 5", SC, {"w.pt": EMPTY_PT, "w.pt.json": '{"arch": 5}'})
add("input_size must be a whole number, not '64'", SC,
    {"w.pt": EMPTY_PT, "w.pt.json": '{"input_size": "64"}'})
add("unknown class name(s) sadd", SC, {"w.pt": EMPTY_PT, "w.pt.json": '{"labels": "happy,sadd"}'})
add("input size 4096 is out of range", SC,
    {"w.pt": state_dict("synth_cnn"), "w.pt.json": '{"arch": "synth_cnn", "input_size": 4096}'})
for option, what in [("--input-size 0", "input size 0 is out of range 8-512"),
                     ("--input-size 99999999", "input size 99999999 is out of range"),
                     ("--channels 2", "channels must be 1 or 3"),
                     ("--normalize bogus", "normalisation 'bogus'"),
                     ("--normalize 0.5,0", "std must be positive"),
                     ("--label-order happy,sad", "does not cover the 7 emotions"),
                     ("--label-order joy,bogus", "unknown class name(s) bogus"),
                     ("--output scores", "output must be one of logits, probs, log_probs")]:
    add(what, f"{MD} fer_synth_cnn {option}")

# ---------------------------------------------------------------- training options
for option, what in [("--epochs 0", "epochs must be a whole number of at least 1, not 0"),
                     ("--epochs -3", "epochs must be a whole number of at least 1"),
                     ("--batch-size 0", "batch size must be a whole number of at least 1"),
                     ("--patience 0", "patience must be a whole number of at least 1"),
                     ("--lr 0", "learning rate must be a finite number > 0"),
                     ("--lr -0.1", "learning rate must be a finite number > 0"),
                     ("--lr nan", "learning rate must be a finite number > 0, not nan"),
                     ("--lr inf", "learning rate must be a finite number > 0, not inf"),
                     ("--optimizer bogus", "optimizer must be one of adam, sgd, not 'bogus'"),
                     ("--optimizer Adam", "optimizer must be one of adam, sgd"),
                     ("--seed -1", "seed must be a whole number of at least 0"),
                     ("--labels bogus", "unknown label mode 'bogus'; choose fer2013")]:
    add(what, f"{TR} -d synth {option}")
add("needs a fer2013 csv and its FER+ votes", f"{TR} -d synth --labels ferplus-majority")
add("no such file or folder", f"{TR} -d {{d}}/missing")
add("split bogus is empty", f"{TR} -d synth --train-split bogus")
add("line 2: unknown emotion code", f"{TR} -d {{d}}/f.csv", {"f.csv": fer_csv(emotion="x")})
add("unknown architecture", "train --arch resnet9000 -o {d}/run -d {d}/f.csv",
    {"f.csv": SYNTH_CSV})
add("checkpoint is damaged (", f"{TR} -d {{d}}/f.csv --epochs 1",
    {"f.csv": SYNTH_CSV, "run/checkpoint.pt": b"PK\x03\x04 half a checkpoint"})
add("neither a file nor a zoo model", f"{TR} -d {{d}}/f.csv --init {{d}}/none.pt",
    {"f.csv": SYNTH_CSV})

# ---------------------------------------------------------------- later commands and options
add("contempt must be one of merge, drop, keep", "audit -d synth --contempt bogus")
add("line 2: unknown emotion code", "audit -d {d}/f.csv", {"f.csv": fer_csv(emotion="x")})
add("no such file or folder", "matrix -m fer_synth_cnn -d {d}/missing")
add("split bogus is empty", "matrix -m fer_synth_cnn -d synth@bogus")
add("--n must be at least 1", "checks -m fer_synth_cnn -d synth --n 0")
add("not a readable HDF5 Keras file", "convert {d}/m.h5 -o {d}/out", {"m.h5": b"keras"})
add("--group-regex '('", f"{EV} synth --group-regex (")
add("no sequence ids", f"{EV} synth --one-per-sequence")
add("no 'subject' group", "finetune -m fer_synth_cnn -d synth -o {d}/ft --split-by subject")
add("the contrast sad-sad explains nothing", "saliency {d}/a.png --no-detect --target sad-sad",
    {"a.png": png()})

# ---------------------------------------------------------------- sharded jobs (--engine, explain)
JOB = "predict -m fer_synth_cnn -d synth:50 -o {d}/job"
add("unknown engine 'spark'; choose local, ray", f"{JOB} --engine spark")
add("--shard-size must be at least 1, not 0", f"{JOB} --engine local --shard-size 0")
add("--workers must be at least 1, not 0", f"{JOB} --engine ray --workers 0")
add("--gpus must not be negative", f"{JOB} --engine ray --gpus -1")
add("are options of --engine ray", f"{JOB} --engine local --workers 2")
add("need --engine", f"{JOB} --shard-size 10")
add("write synth:N with N a positive number", "predict -m fer_synth_cnn -d synth:0 -o {d}/job "
    "--engine local")
add("is not empty and holds no ferviz job", f"{JOB} --engine local", {"job/notes.txt": b"mine"})
add("is a file; a sharded job writes a folder", f"{JOB} --engine local", {"job": b"a file"})
add("is damaged", f"{JOB} --engine local", {"job/_job.json": b"{half"})
add("unknown explanation method", "explain -m fer_synth_cnn -d synth:50 -o {d}/job -x bogus")
add("name at least one method", "explain -m fer_synth_cnn -d synth:50 -o {d}/job -x ,")
add("no such file or folder", "explain -m fer_synth_cnn -d {d}/missing -o {d}/job -x gradcam")
add("is not the output of a ferviz job", "job-report {d}/none -o {d}/r.html")
add("is not the output of a ferviz job", "job-report {d} -o {d}/r.html")
add("--top and --per-cell must be at least 0", "job-report {d} -o {d}/r.html --top -1")

# damaged job folders: a copy of a finished job (the real engine's), then one file damaged;
# job-report and a resumed run of the same job say which file and what is wrong
REPORT = "job-report {d}/job -o {d}/r.html"
RESUME = f"predict {JOB_ARGS} --engine local -o {{d}}/job"
M, S, P1, P2 = MANIFEST, SUMMARY, part_name(1), part_name(2)
for damage, what, process in [
        (put(M, b"{half"), "_job.json is damaged: not JSON", False),
        (put(M, b""), "_job.json is damaged: not JSON", False),
        (put(M, "[1, 2]"), "_job.json is damaged: should be an object, not [1, 2]", False),
        (edit(M, lambda d: d.pop("rows")), "_job.json is damaged: no 'rows'", False),
        (edit(M, lambda d: d["job"].update(shard_size="ten")),
         "job.shard_size should be a positive integer, not \"ten\"", False),
        (edit(M, lambda d: d["job"].update(methods="gradcam")),
         "job.methods should be a list, not \"gradcam\"", False),
        (edit(M, lambda d: d.update(version=99)), "_job.json was written by a newer ferviz "
         "(version 99", False),
        (edit(M, lambda d: d.update(shards=7)), "7 shards of 100 cannot hold 250 rows", False),
        (put(M, folder), "_job.json is a folder, not a job file", False),
        (put(M, fifo), "_job.json: not a regular job file", True)]:
    for cmd in (REPORT, RESUME):
        add(what, cmd, {"job": job(damage)}, process=process)
for damage, what, process in [
        (put(S, b"\x00\xff"), "_summary.json is damaged: not JSON", False),
        (put(S, "[]"), "_summary.json is damaged: should be an object, not []", False),
        (edit(S, lambda d: d.pop("confusion")), "_summary.json is damaged: no 'confusion'",
         False),
        (edit(S, lambda d: d["confusion"]["test"].pop()),
         "confusion.test should hold 8 values, not 7", False),
        (edit(S, lambda d: d.update(rows="many")), "rows should be a count, not \"many\"",
         False),
        (edit(S, lambda d: d.update(version=2)), "_summary.json was written by a newer ferviz",
         False),
        (edit(S, lambda d: d.update(rows=999)), "999 rows, but the job has 250", False),
        (put(S, folder), "_summary.json is a folder, not a job file", False),
        (put(S, fifo), "_summary.json: not a regular job file", True)]:
    add(what, REPORT, {"job": job(damage)}, process=process)
for damage, what, process in [
        (truncated(P1), "part-00001.parquet is damaged (not a readable parquet file", False),
        (put(P1, b"PAR1" + bytes(range(256)) * 8), "part-00001.parquet is damaged (not a "
         "readable parquet file", False),
        (put(P1, folder), "part-00001.parquet is a folder, not a part file", False),
        (put(P1, fifo), "part-00001.parquet: not a regular part file", True),
        (lambda f: (f / P2).write_bytes((f / part_name(0)).read_bytes()),
         "part-00002.parquet is damaged: 100 rows, but its shard has 50", False),
        (put(P2, other_columns), "part-00002.parquet is damaged: no column 'row'", False)]:
    for cmd in (REPORT, RESUME):
        add(what, cmd, {"job": job(damage)}, process=process)
add("the job is not finished", REPORT, {"job": job(removed(S))})
add("none of the job's 3 part files is there", REPORT,
    {"job": job(removed(part_name(0), P1, P2))})
# parts missing from a finished job: a report of the rest that says what it leaves out
add("warning: 1 of the job's 3 part files missing (part-00001.parquet): the report covers 150 "
    "of its 250 faces", REPORT, {"job": job(removed(P1))}, ok=report_covers(150))
add("(part-00002.parquet): the report covers 200 of its 250 faces", REPORT,
    {"job": job(removed(P2))}, ok=report_covers(200))
# --force starts a damaged job over (the manifest replaced last, atomically), and refuses to
# remove folders and fifos it did not write
add("", f"{RESUME} --force", {"job": job(put(M, b"{half"))}, ok=started_over)
add("", f"{RESUME} --force", {"job": job(edit(M, lambda d: d.update(version=99)))},
    ok=started_over)
add("_job.json is a folder, not a file of a job; --force removes only files", f"{RESUME} --force",
    {"job": job(put(M, folder))})
add("part-00001.parquet is a folder, not a file of a job", f"{RESUME} --force",
    {"job": job(put(P1, folder))})
add("part-00001.parquet: not a regular file of a job", f"{RESUME} --force",
    {"job": job(put(P1, fifo))}, process=True)
# a Ray address nothing answers at fails at once, before the job folder is made
add("cannot reach a Ray cluster at 127.0.0.1:1", f"{JOB} --engine ray --address 127.0.0.1:1",
    process=True)
add("cannot reach a Ray cluster at ray://127.0.0.1:1",
    f"{JOB} --engine ray --address ray://127.0.0.1:1")
add("--address host:port6379: not a Ray cluster address", f"{JOB} --engine ray --address "
    "host:port6379")


# ---------------------------------------------------------------- names and special files
for spec, what in [("{d}/m.pt", "not a regular model file"), ("/dev/zero", "not a regular model"),
                   ("{d}/" + "m" * 300 + ".pt", "File name too long")]:
    add(what, f"{MD} {spec}", {"m.pt": fifo} if spec.endswith("/m.pt") else {}, process=True)
add("not a regular data file", f"{EV} {{d}}/p.png", {"p.png": fifo}, process=True)
add("not a regular file", "saliency {d}/p.png", {"p.png": fifo}, process=True)
add("not a regular file", "saliency {d}/v.mp4", {"v.mp4": fifo}, process=True)
add("not a regular Python file", f"{MD} {{d}}/w.pt --arch {{d}}/net.py:Net",
    {"w.pt": EMPTY_PT, "net.py": fifo}, process=True)
add("not a readable model card", f"{MD} {{d}}/entry", {"entry/card.json": "[1, 2]"})
add("not a readable model card", f"{MD} {{d}}/entry",
    {"entry/card.json": '{"arch": "synth_cnn", "info": [1]}'})
add("at most 2,000,000 FER-Synth faces", f"{EV} synth:1000000000000")
add("write synth:N", f"{EV} synth:-5")
add("pixel value '111111111111...' is not an integer 0-255", f"{EV} {{d}}/f.csv",
    {"f.csv": fer_csv(pixels="1" * 5000 + " 0" * 2303)})
add("--show must be at least 0", "audit -d synth --show -1")
add("already holds a model", f"{TR} -d synth --epochs 1",
    {"run/card.json": "{}", "run/weights.safetensors": b""})
