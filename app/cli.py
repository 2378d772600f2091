"""Command line: `podalign align AUDIO TRANSCRIPT [-o OUT.vtt|.srt|.ttml|.ass|.TextGrid|.json]…`."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, NoReturn, TextIO

from alignment import Aligner, AlignmentError, AlignmentOptions
from alignment.captions import FORMATS, CaptionOptions
from alignment.text import decode_transcript
from alignment.types import REFINEMENTS
from alignment.weights import fetch_model
from app.outputs import (
    EXIT_ALIGNMENT_ERROR,
    EXIT_USAGE,
    CommandError,
    Output,
    check_readable,
    plan_outputs,
    rendered,
    summary,
    write,
)
from app.settings import Settings

EXIT_STORAGE = 1

if TYPE_CHECKING:
    from app.keys import KeyStore

    _Commands = argparse._SubParsersAction[argparse.ArgumentParser]


class _Parser(argparse.ArgumentParser):
    """Usage errors in the command's own form and exit status (64, like every usage error)."""

    def error(self, message: str) -> NoReturn:
        print(f"error: usage: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = _Parser(
        prog="podalign", description="Align an episode's audio with its transcript."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    _add_align_command(commands)
    _add_serve_command(commands)
    _add_worker_command(commands)
    _add_download_command(commands)
    _add_healthcheck_command(commands)
    _add_keys_command(commands)
    return parser


def _add_align_command(commands: _Commands) -> None:
    cmd = commands.add_parser(
        "align",
        help="align AUDIO with TRANSCRIPT and write word times or captions",
        description="Align AUDIO (MP3, M4A, WAV, FLAC, OGG/Opus, MP4, MKV, WebM, …) with "
        "TRANSCRIPT (UTF-8 or UTF-16 text) and write word times and cues (JSON) or captions "
        "(WebVTT, SRT, TTML/IMSC, ASS, Praat TextGrid, Gentle's JSON).",
    )
    cmd.add_argument("audio", type=Path, help="the episode's audio or video file")
    cmd.add_argument("transcript", type=Path, help="the text spoken in it")
    cmd.add_argument(
        "-o",
        "--output",
        type=Path,
        action="append",
        default=[],
        help="where to write (.vtt .srt .ttml .ass .TextGrid .json); repeat for several "
        "files from one alignment; default: JSON on stdout",
    )
    cmd.add_argument(
        "--format",
        choices=tuple(FORMATS),
        default=None,
        help="output format of the single output (default: from the output's extension, "
        "else json); gentle: Gentle-compatible JSON",
    )
    cmd.add_argument(
        "--model",
        default="tiny.en",
        help="faster-whisper model name (tiny.en, base, small, large-v3, …) or a "
        "local CTranslate2 folder (default: the bundled tiny.en)",
    )
    cmd.add_argument(
        "--language",
        default=None,
        help="ISO 639-1 code (en, es, de, …); default: detected from the audio",
    )
    cmd.add_argument(
        "--refine",
        choices=REFINEMENTS,
        default="acoustic",
        help="how word boundaries are sharpened: acoustic (a phone-level model; English and "
        "Spanish, other languages get signal), precise (acoustic with a second aligner's "
        "opinion, English: finer, slower), signal (pauses and energy), none (default: "
        "acoustic)",
    )
    cmd.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="where to run the model (default: auto, CUDA when present)",
    )
    cmd.add_argument(
        "--compute-type",
        default="auto",
        help="CTranslate2 compute type (default: int8 on CPU, float16 on CUDA)",
    )
    _add_caption_arguments(cmd)
    cmd.add_argument(
        "-v", "--verbose", action="store_true", help="log why each word was or was not placed"
    )


def _add_serve_command(commands: _Commands) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the HTTP service (settings from PODALIGN_* environment variables)",
        description="Run the HTTP service with its worker. Settings come from PODALIGN_* "
        "environment variables (see the README). With PODALIGN_BROKER_URL (distributed mode) "
        "it serves the API only: `podalign worker`s run the jobs.",
    )
    serve.add_argument(
        "--host", default=None, help="address to listen on (default: PODALIGN_HOST, 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=None, help="port (default: PODALIGN_PORT, 8000)")


def _add_worker_command(commands: _Commands) -> None:
    worker = commands.add_parser(
        "worker",
        help="run only the job worker(s), next to an API-only `serve` (PODALIGN_WORKERS=0)",
        description="Run PODALIGN_WORKERS (at least one) worker threads on the same database "
        "and data directory as the service, without HTTP. With PODALIGN_BROKER_URL "
        "(distributed mode): one process that takes the jobs of one model from the queue, on "
        "any host. Stops on SIGTERM or Ctrl-C.",
    )
    worker.add_argument(
        "--model",
        default=None,
        help="the model to load, and in distributed mode the only one whose queue is consumed "
        "(default: PODALIGN_MODEL)",
    )


def _add_download_command(commands: _Commands) -> None:
    fetch = commands.add_parser(
        "download-model",
        help="make a model available offline (e.g. while building an image)",
        description="Download a faster-whisper model (or unpack a bundled one) into the model "
        "cache, so that the service starts without the network.",
    )
    fetch.add_argument("model", help="tiny.en, base, small, large-v3, …")
    fetch.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="model cache (default: PODALIGN_MODEL_CACHE_DIR, else the user's cache folder)",
    )


def _add_healthcheck_command(commands: _Commands) -> None:
    check = commands.add_parser(
        "healthcheck",
        help="exit 0 when the local service answers /healthz (for container health checks)",
    )
    check.add_argument(
        "--url", default=None, help="default: /healthz on PODALIGN_PORT (8000) of this machine"
    )


def _add_keys_command(commands: _Commands) -> None:
    keys = commands.add_parser(
        "keys",
        help="create, list and revoke API keys (stored as hashes in the job store)",
        description="Manage the service's API keys. Once one exists, the API needs a key; each "
        "key sees only its own jobs, an admin key sees all. Uses PODALIGN_DATABASE_URL / "
        "PODALIGN_DATA_DIR like the service.",
    )
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="make a key for NAME; prints it once")
    create.add_argument("name", help="who the key is for (letters, digits, '.', '_', '-')")
    create.add_argument("--admin", action="store_true", help="the key sees every job")
    actions.add_parser("list", help="names, roles and dates (never the keys)")
    revoke = actions.add_parser("revoke", help="revoke NAME's key")
    revoke.add_argument("name")


def _add_caption_arguments(cmd: argparse.ArgumentParser) -> None:
    defaults = CaptionOptions()
    group = cmd.add_argument_group("caption layout")
    group.add_argument(
        "--max-chars",
        type=int,
        default=defaults.max_chars_per_line,
        help=f"characters per line (default {defaults.max_chars_per_line})",
    )
    group.add_argument(
        "--max-lines",
        type=int,
        default=defaults.max_lines,
        help=f"lines per cue (default {defaults.max_lines})",
    )
    group.add_argument(
        "--max-duration",
        type=float,
        default=defaults.max_duration_s,
        help=f"longest cue in seconds (default {defaults.max_duration_s:g})",
    )
    group.add_argument(
        "--max-cps",
        type=float,
        default=defaults.max_chars_per_s,
        help=f"reading speed in characters per second (default {defaults.max_chars_per_s:g})",
    )
    group.add_argument(
        "--highlight",
        choices=("none", "words"),
        default="none",
        help="words: per-word timing for karaoke-style players (WebVTT, ASS)",
    )
    group.add_argument(
        "--no-speakers",
        action="store_true",
        help="leave out speaker names taken from labels such as 'ANNA:'",
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO
        if getattr(args, "verbose", False) or args.command in ("serve", "worker")
        else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if getattr(args, "verbose", False):
        # -v shows every window's decision: why a word was placed, skipped or not found.
        logging.getLogger("alignment").setLevel(logging.DEBUG)
    # Alembic tells of every plugin and migration step at INFO; start-up says one line a fact.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.command == "serve":
        return _serve(args)
    if args.command == "worker":
        return _worker(args.model)
    if args.command == "download-model":
        return _download_model(args)
    if args.command == "healthcheck":
        return _healthcheck(args.url)
    if args.command == "keys":
        return _keys(args)
    return _align(args)


def _worker(model: str | None) -> int:
    from app.main import build_service, start_workers, stop_workers

    settings = Settings(model=model) if model else Settings()
    if not _options_ready(settings):
        return EXIT_USAGE
    if not _storage_ready(settings):
        return EXIT_STORAGE
    if settings.distributed:
        return _queue_worker(settings)
    service = build_service(settings, workers=max(1, settings.workers))
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    start_workers(service)
    logging.getLogger(__name__).info("%d worker(s) running", len(service.workers))
    stop.wait()
    stop_workers(service)
    return 0


def _queue_worker(settings: Settings) -> int:
    """Distributed mode: the process is a Celery worker; the webhook sender and the cluster's
    periodic duties run beside it."""
    from app.claims import ClaimSlot
    from app.cluster import process_identity
    from app.consumer import consume
    from app.main import build_service, start_workers, stop_workers
    from app.placement import gpu_of_process
    from app.worker import Models, Worker

    service = build_service(settings)
    assert service.dispatcher is not None
    # One process per GPU: the n-th worker process on this data folder (its claim slot; the
    # compose file shares the slots among a host's replicas) takes the n-th GPU of
    # PODALIGN_DEVICE_INDEX (all visible GPUs by default), round again; or the CPU.
    slot = ClaimSlot.acquire(settings.data_dir)
    models = Models(settings, gpu_of_process(settings.device, settings.device_index, slot.number))
    runner = Worker(
        settings,
        service.store,
        service.files,
        models,
        service.webhooks,
        name="queue-worker",
        claimant=process_identity(),
    )
    start_workers(service)
    try:
        consume(runner, service.dispatcher, settings.model)
    finally:
        stop_workers(service)
        slot.release()
    return 0


def _download_model(args: argparse.Namespace) -> int:
    cache = args.cache_dir or Settings().model_cache_dir
    try:
        folder = fetch_model(args.model, cache)
    except AlignmentError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_ALIGNMENT_ERROR
    print(f"{args.model}: {folder}")
    return 0


def _keys(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from app.db import connect, migrate
    from app.keys import KeyCommandError, KeyStore

    database = Settings().database
    try:
        engine = connect(database)
    except (SQLAlchemyError, OSError) as exc:
        print(_database_error(exc, database), file=sys.stderr)
        return EXIT_STORAGE
    try:
        migrate(engine)
        return _key_action(KeyStore(engine), args)
    except KeyCommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (SQLAlchemyError, OSError) as exc:
        print(_database_error(exc, database), file=sys.stderr)
        return EXIT_STORAGE
    finally:
        engine.dispose()


def _key_action(store: KeyStore, args: argparse.Namespace) -> int:
    if args.action == "create":
        key = store.create(args.name, admin=args.admin)
        role = "an admin key (sees every job)" if args.admin else "a key (sees its own jobs)"
        print(f"Created {role} for {args.name!r}; it is shown only now:")
        print(key)
    elif args.action == "list":
        _print_keys(store)
    elif not store.revoke(args.name):
        print(f"error: {args.name!r} has no key to revoke", file=sys.stderr)
        return 1
    else:
        print(f"Revoked the key of {args.name!r}.")
    return 0


def _database_error(exc: Exception, database: str) -> str:
    """One `error: CODE: message` line for a database that cannot be used."""
    from sqlalchemy import make_url

    from app.storage import storage_problem

    problem = storage_problem(exc)
    code = problem.code if problem is not None else "storage_unavailable"
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    reason = lines[0][:300] if lines else type(exc).__name__
    shown = make_url(database).render_as_string(hide_password=True)
    return (
        f"error: {code}: the database {shown} cannot be used ({reason}). Check "
        "PODALIGN_DATABASE_URL or PODALIGN_DATA_DIR; a damaged database must be restored from "
        "a backup or moved away."
    )


def _print_keys(store: KeyStore) -> None:
    for key in store.list():
        created = time.strftime("%Y-%m-%d %H:%M", time.gmtime(key.created_at))
        state = (
            f"revoked {time.strftime('%Y-%m-%d %H:%M', time.gmtime(key.revoked_at))}"
            if key.revoked_at is not None
            else "active"
        )
        print(f"{key.name}\t{'admin' if key.admin else 'user'}\tcreated {created} UTC\t{state}")


def _healthcheck(url: str | None) -> int:
    url = url or f"http://127.0.0.1:{Settings().port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError):
        return 1


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.main import create_app

    settings = Settings()
    if not _options_ready(settings):
        return EXIT_USAGE
    if not _storage_ready(settings):
        return EXIT_STORAGE
    host, port = args.host or settings.host, args.port or settings.port
    log = logging.getLogger(__name__)
    log.info("data directory %s", settings.data_dir.resolve())
    log.info("page and API on http://%s:%d (API docs at /docs)", host, port)
    if settings.distributed:
        log.info("distributed mode: API only; jobs run on `podalign worker`s via the queue")
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None)
    return 0


def _options_ready(settings: Settings) -> bool:
    """Check the engine settings (PODALIGN_BATCH_SIZE, …) before starting: a bad one is one
    line on stderr with its code, not a failed start-up deep in the first model load."""
    from alignment.engine import check_options
    from app.placement import place_workers
    from app.worker import engine_options

    try:
        check_options(engine_options(settings, settings.model))
        place_workers(settings.device, settings.device_index, max(1, settings.workers))
    except AlignmentError as exc:
        print(f"error: {exc.code}: {exc.message} (PODALIGN_* settings)", file=sys.stderr)
        return False
    problem = settings.distributed_problem()
    if problem is not None:
        print(f"error: invalid_settings: {problem}", file=sys.stderr)
        return False
    return True


def _storage_ready(settings: Settings) -> bool:
    """Check the database and the job folder before starting: a broken one is one line on
    stderr, not a traceback."""
    from app.main import open_storage
    from app.storage import StorageError

    try:
        store, _files = open_storage(settings)
    except StorageError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return False
    store.engine.dispose()
    return True


def _align(args: argparse.Namespace) -> int:
    try:
        return _align_files(args)
    except CommandError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return exc.exit_status
    except AlignmentError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_USAGE if exc.code == "invalid_option" else EXIT_ALIGNMENT_ERROR


def _align_files(args: argparse.Namespace) -> int:
    """Everything that can be checked is checked before the alignment, which may take long."""
    outputs = plan_outputs(args.output, args.format)
    captions = _caption_options(args)
    check_readable(args.audio, "audio")
    check_readable(args.transcript, "transcript")
    transcript = _read(args.transcript)
    text = decode_transcript(transcript)
    options = AlignmentOptions(
        model=args.model,
        language=args.language,
        device=args.device,
        compute_type=args.compute_type,
        refine=args.refine,
    )
    bar = _ProgressBar(sys.stderr)
    started = time.monotonic()
    try:
        result = Aligner(options).align(args.audio, transcript, progress=bar.update)
    finally:
        bar.close()
    elapsed_s = time.monotonic() - started
    for output in outputs:
        _emit(rendered(result, output.format, captions, text), output)
    if sys.stderr.isatty():
        sys.stderr.write(summary(result, elapsed_s, outputs))
    return 0


def _caption_options(args: argparse.Namespace) -> CaptionOptions:
    return CaptionOptions(
        max_chars_per_line=args.max_chars,
        max_lines=args.max_lines,
        max_duration_s=args.max_duration,
        max_chars_per_s=args.max_cps,
        highlight=args.highlight,
        speakers=not args.no_speakers,
    )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CommandError("file_unreadable", f"cannot read {str(path)!r}: {exc}") from exc


def _emit(text: str, output: Output) -> None:
    if output.path is None:
        sys.stdout.write(text)
    else:
        write(text, output.path)


class _ProgressBar:
    """A one-line progress bar on a terminal; silent when stderr is not a terminal."""

    _STAGES: ClassVar[dict[str, tuple[float, float]]] = {
        "decode": (0.0, 0.05),
        "align": (0.05, 0.97),
        "refine": (0.97, 1.0),
    }

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._active = stream.isatty()
        self._shown = -1

    def update(self, stage: str, fraction: float) -> None:
        if not self._active:
            return
        low, high = self._STAGES.get(stage, (0.0, 1.0))
        percent = int(100 * (low + (high - low) * fraction))
        if percent == self._shown:
            return
        self._shown = percent
        filled = percent * 30 // 100
        self._stream.write(f"\r{stage:<7} [{'#' * filled}{'.' * (30 - filled)}] {percent:3d}%")
        self._stream.flush()

    def close(self) -> None:
        if self._active and self._shown >= 0:
            self._stream.write("\n")
            self._stream.flush()


if __name__ == "__main__":
    raise SystemExit(main())
