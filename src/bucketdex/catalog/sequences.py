"""Image sequences (``createVideo: true``): the frames encoded into one video in the bucket.

Seed 001: an image sequence is "represented as a video"; frames of other sizes are scaled to
the first frame's; creating one "requires 'write' permissions, as new files have to be created".
Encoding needs whole frames, so this is the one place files are downloaded in full.  Frames are
decoded with Pillow and piped to ffmpeg as raw RGB (any mix of formats and sizes works), the
video (H.264, moov first) is written back as ``bucketdex/sequences/<uuid>.mp4`` and read with
the video extractor, like any registered video.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

from msgspec.structs import replace

from bucketdex.catalog.records import MediaMetadata
from bucketdex.catalog.types import ItemType
from bucketdex.errors import BucketdexError
from bucketdex.storage import AccessDenied, ObjectStore

SEQUENCE_FPS = 25  # one image per frame; the rate only sets the video's duration
VIDEO_PREFIX = "bucketdex/sequences/"


class SequenceError(BucketdexError):
    """An image sequence could not be made into a video; ``action`` says what to do."""

    code = "sequence_failed"

    def __init__(self, message: str, action: str) -> None:
        super().__init__(message)
        self.action = action


def encode_sequence(store: ObjectStore, frame_keys: Sequence[str]) -> tuple[str, MediaMetadata]:
    """Encode the frames (in order) into a video written into ``store``; its key and metadata."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SequenceError(
            "image sequences are encoded with ffmpeg, which is not installed here",
            "Install ffmpeg (e.g. apt-get install ffmpeg), or register the images as an image group.",
        )
    with tempfile.TemporaryDirectory(prefix="bucketdex-sequence-") as tmp:
        video = Path(tmp) / "sequence.mp4"
        _encode(ffmpeg, store, frame_keys, video)
        key = f"{VIDEO_PREFIX}{uuid.uuid4()}.mp4"
        try:
            store.put(key, video.read_bytes(), content_type="video/mp4")
        except AccessDenied as exc:
            raise SequenceError(
                f"an image sequence is written into the bucket as a video, and {store.describe()} "
                f"refused the write: {exc}",
                exc.fix or "Give the integration write permission, or register the images as an image group.",
            ) from None
        return key, _video_media(video)


def _encode(ffmpeg: str, store: ObjectStore, frame_keys: Sequence[str], out: Path) -> None:
    from PIL import Image

    first = Image.open(io.BytesIO(store.read(frame_keys[0]))).convert("RGB")
    size = (first.width - first.width % 2, first.height - first.height % 2)  # H.264 4:2:0: even sides
    command = [
        ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{size[0]}x{size[1]}", "-r", str(SEQUENCE_FPS),
        "-i", "-", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(out),
    ]  # fmt: skip
    with subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdin is not None
        try:
            for n, key in enumerate(frame_keys):
                frame = first if n == 0 else Image.open(io.BytesIO(store.read(key))).convert("RGB")
                if frame.size != size:
                    frame = frame.resize(size)
                process.stdin.write(frame.tobytes())
        except (BrokenPipeError, OSError) as exc:
            process.kill()
            raise SequenceError(f"cannot encode the image sequence: {exc}", _CHECK_FRAMES) from None
        finally:
            process.stdin.close()
        errors = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.returncode != 0:
        raise SequenceError(
            f"ffmpeg could not encode the image sequence: {errors.strip()[:300]}", _CHECK_FRAMES
        )


_CHECK_FRAMES = "Check every frame is a readable image, then retry the failures."


def _video_media(video: Path) -> MediaMetadata:
    from bucketdex.extract import FileSource, extract_for

    with FileSource(video) as source:
        media = extract_for(ItemType.VIDEO, source).media
    return replace(media, file_size=media.file_size or video.stat().st_size, mime_type="video/mp4")
