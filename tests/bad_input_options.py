"""The shared options of the bad-input corpus: every command that takes the model options gets
each bad model option, and every command that takes the data options each bad data option.
One declaration of each option serves every command, so each door must refuse the same value
with the same message, before any work and without leaving anything behind (see
bad_input_files.py for the case shape)."""

from __future__ import annotations

from bad_input_files import add, png

MODEL = "-m fer_synth_cnn"
DATA = "-d synth:10"
# command -> its arguments besides the option under test ({d}: the case's folder)
TAKES_MODEL = {
    "evaluate": f"{MODEL} {DATA}",
    "predict": f"{MODEL} {DATA} -o {{d}}/out/p.parquet",
    "report": f"{MODEL} {DATA} -o {{d}}/out/r.html",
    "checks": f"{MODEL} {DATA}",
    "matrix": f"{MODEL} {DATA} -o {{d}}/out/m.csv",
    "explain": f"{MODEL} {DATA} -x gradcam -o {{d}}/out/job",
    "regions": f"{MODEL} {DATA}",
    "finetune": f"{MODEL} {DATA} -o {{d}}/out/ft",
    "saliency": f"{{d}}/face.png {MODEL} --no-detect -o {{d}}/out/s.png",
}
TAKES_DATA = {**{k: v for k, v in TAKES_MODEL.items() if k != "saliency"},
              "audit": DATA, "train": f"{DATA} --arch synth_cnn -o {{d}}/out/tr"}
BAD_MODEL = [
    ("--input-size 0", "input size 0 is out of range 8-512"),
    ("--input-size 100000", "input size 100000 is out of range 8-512"),
    ("--channels 2", "channels must be 1 or 3, not 2"),
    ("--normalize bogus", "normalisation 'bogus': use 0..1, -1..1, 0..255, imagenet"),
    ("--label-order nonsense", "label order 'nonsense': unknown class name(s) nonsense"),
    ("--output bogus", "output must be one of logits, probs, log_probs, sigmoid"),
    ("--cam-layer nope", "no layer 'nope' for Grad-CAM"),
    ("--preset nope", "unknown preset 'nope'"),
    ("--arch nope", "fer_synth_cnn is a synth_cnn, not a nope (its card says so)"),
]
BAD_DATA = [
    ("--labels bogus", "unknown label mode 'bogus'; choose fer2013"),
    ("--contempt bogus", "contempt must be one of merge, drop, keep, not 'bogus'"),
    ("--groups {d}/missing.csv", "missing.csv: no such file"),
    ("--group-regex '(unclosed'", "--group-regex '(unclosed': missing )"),
    ("--ferplus {d}/votes.csv", "FER+ votes join a fer2013 csv only"),
]
FACE = {"face.png": png()}

for command, args in TAKES_MODEL.items():
    for option, expect in BAD_MODEL:
        add(expect, f"{command} {args} {option}", FACE if command == "saliency" else None)
GROUPS = ("--groups", "--group-regex")  # one data set's subjects: matrix takes many data sets

for command, args in TAKES_DATA.items():
    for option, expect in BAD_DATA:
        if command != "matrix" or not option.startswith(GROUPS):
            add(expect, f"{command} {args} {option}", {"votes.csv": b"x\n"})
