"""Commands about data sets: audit (duplicates, leaks, blanks, votes) and the models x data
sets matrix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import FervizError
from ..specs import DataSpec, ModelSpec
from .app import app
from .options import Force, Json, Tta, data_options, model_options


@app.command()
@data_options
def audit(data: DataSpec,
          near: Annotated[int, typer.Option(
              help="Near-duplicates: perceptual hashes at most this many bits apart (of 64).")]
          = 4,
          no_near: Annotated[bool, typer.Option(
              "--no-near", help="Skip the near-duplicate (perceptual hash) search.")] = False,
          show: Annotated[int, typer.Option(help="Pairs to print.")] = 10,
          as_json: Json = False) -> None:
    """Audit a data set: exact and near-duplicate faces within and across splits, blank
    faces, FER+ not-a-face / unknown votes and contradicted labels, class balance."""
    from ..app.audit import audit_data

    if show < 0:
        raise FervizError(f"--show must be at least 0, not {show}")
    result = audit_data(data.data, ferplus=data.ferplus, labels=data.labels,
                        contempt=data.contempt, near=None if no_near else near,
                        groups=data.groups, group_regex=data.group_regex)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=1, default=str))
        return
    typer.echo("\n".join(result.lines(show)))


@app.command()
@model_options(what="Zoo name or model file; repeat for each model (the other model options "
               "apply to each).", many=True)
def matrix(model: list[ModelSpec],
           data: Annotated[list[str], typer.Option(
               "--data", "-d", help="Data set, PATH or PATH@SPLIT (e.g. fer2013.csv.xz@"
               "PrivateTest); repeat for each.")],
           out: Annotated[Optional[Path], typer.Option(
               "--out", "-o", help="Write .md, .csv or .html (else print markdown).")] = None,
           force: Force = False,
           labels: Annotated[str, typer.Option(help="fer2013, ferplus-majority or "
                                               "ferplus-dist.")] = "fer2013",
           ferplus: Annotated[Optional[Path], typer.Option(help="FER+ votes.")] = None,
           contempt: Annotated[Optional[str], typer.Option(help="merge, drop or keep.")] = None,
           tta: Tta = False) -> None:
    """Models x data sets: accuracy and macro-F1 with 95% intervals (cluster bootstrap over
    subjects where known), reusing cached predictions."""
    from ..app.matrix import matrix as run
    from ..app.matrix import to_markdown, write_matrix

    if out is not None:
        from ..outputs import check_output

        check_output(out, force)
    df = run(model, data, labels=labels, ferplus=ferplus, contempt=contempt, tta=tta)
    if out is None:
        typer.echo(to_markdown(df))
        return
    typer.echo(f"wrote {write_matrix(df, out, force)}")
