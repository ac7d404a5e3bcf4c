"""Image sequences (``createVideo: true``): the frames encoded into one video in the bucket.

Seed 001: an image sequence is "represented as a video"; frames of other sizes are scaled to
the first frame's; creating one "requires 'write' permissions, as new files have to be created".
Encoding needs whole frames, so this is the one place files are downloaded in full.  Frames are
decoded with Pillow and encoded by the FFmpeg libraries PyAV ships (any mix of formats and
sizes works; no ffmpeg binary is needed); the video (H.264, moov first) is written back as
``bucketdex/sequences/<uuid>.mp4`` and read with the video extractor, like any registered video.
"""

from __future__ import annotations

import io
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

from msgspec.structs import replace

from bucketdex.core.records import MediaMetadata
from bucketdex.core.types import ItemType
from bucketdex.errors import BucketdexError
from bucketdex.storage import AccessDenied, ObjectStore

SEQUENCE_FPS = 25  # one image per frame; the rate only sets the video's duration
VIDEO_PREFIX = "bucketdex/sequences/"


class SequenceError(BucketdexError):
    """An image sequence could not be made into a video; ``action`` says what to do."""

    code = "sequence_failed"
    detail_fields = ("action",)

    def __init__(self, message: str, action: str) -> None:
        super().__init__(message)
        self.action = action


def encode_sequence(store: ObjectStore, frame_keys: Sequence[str]) -> tuple[str, MediaMetadata]:
    """Encode the frames (in order) into a video written into ``store``; its key and metadata."""
    try:
        import av
    except ImportError:
        raise SequenceError(
            "image sequences are encoded with PyAV, which is not installed here",
            "Install the media extra (pip install 'bucketdex[media]'), or register the images as an "
            "image group.",
        ) from None
    with tempfile.TemporaryDirectory(prefix="bucketdex-sequence-") as tmp:
        video = Path(tmp) / "sequence.mp4"
        try:
            _encode(store, frame_keys, video)
        except (av.FFmpegError, OSError, ValueError) as exc:  # Pillow's UnidentifiedImageError is an OSError
            raise SequenceError(f"cannot encode the image sequence: {exc}", _CHECK_FRAMES) from exc
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


def _encode(store: ObjectStore, frame_keys: Sequence[str], out: Path) -> None:
    """H.264 (yuv420p, index first) by the FFmpeg libraries PyAV ships: no ffmpeg binary needed."""
    import av
    import numpy
    from PIL import Image

    first = Image.open(io.BytesIO(store.read(frame_keys[0]))).convert("RGB")
    size = (first.width - first.width % 2, first.height - first.height % 2)  # H.264 4:2:0: even sides
    with av.open(str(out), "w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=SEQUENCE_FPS)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for n, key in enumerate(frame_keys):
            frame = first if n == 0 else Image.open(io.BytesIO(store.read(key))).convert("RGB")
            if frame.size != size:
                frame = frame.resize(size)
            picture = av.VideoFrame.from_ndarray(numpy.asarray(frame), format="rgb24").reformat(
                format="yuv420p"
            )
            picture.pts = n
            container.mux(stream.encode(picture))
        container.mux(stream.encode(None))


_CHECK_FRAMES = "Check every frame is a readable image, then retry the failures."


def _video_media(video: Path) -> MediaMetadata:
    from bucketdex.extract import FileSource, extract_for

    with FileSource(video) as source:
        media = extract_for(ItemType.VIDEO, source).media
    return replace(media, file_size=media.file_size or video.stat().st_size, mime_type="video/mp4")
