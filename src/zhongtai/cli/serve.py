"""``zhongtai serve``: the decision and partner API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zhongtai.cli.common import console

app = typer.Typer()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (rate limits are shared by all).")
    ] = 1,
    tls_cert: Annotated[
        Path | None, typer.Option(help="PEM certificate (chain): serve HTTPS.")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option(help="PEM private key of --tls-cert.")] = None,
) -> None:
    """The decision and partner API (OpenAPI docs on /docs, served from the app's own
    assets); HTTPS with a certificate. Listens on 127.0.0.1 unless told otherwise."""
    import uvicorn

    if (tls_cert is None) != (tls_key is None):
        raise typer.BadParameter("give both --tls-cert and --tls-key, or neither")
    for option, path in (("--tls-cert", tls_cert), ("--tls-key", tls_key)):
        if path is not None and not path.is_file():
            raise typer.BadParameter(f"{option}: no such file {path}")
    scheme = "http" if tls_cert is None else "https"
    console.print(f"zhongtai API on {scheme}://{host}:{port} (docs: /docs)")
    uvicorn.run(
        "zhongtai.api.main:app",
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        loop="uvloop",
        http="httptools",
        ssl_certfile=tls_cert,
        ssl_keyfile=tls_key,
    )
