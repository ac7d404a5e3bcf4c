"""The CSV registration format: the seeds' CSV examples (their tables, written as CSV) and errors."""

from __future__ import annotations

import codecs
import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bucketdex.core.types import ItemType
from bucketdex.manifest import ManifestError
from bucketdex.manifest.csv_format import parse_csv_manifest
from bucketdex.manifest.detect import parse_manifest

P = "path/to/storage-location"


def summary(text: str) -> list[tuple[str, str, list[str]]]:
    manifest = parse_csv_manifest(text)
    return [
        (e.item.item_type.value, e.item.name, [c.url or "" for c in e.item.children] or [e.item.url or ""])
        for e in manifest.entries
    ]


def test_seed_videos_blank_title_keeps_file_name() -> None:
    text = f"ObjectUrl,Video title\n{P}/frame1.mp4,Video 1\n{P}/frame2.mp4,Video 2\n{P}/frame3.mp4,\n{P}/frame4.mp4,Video 3\n"
    assert [(t, n) for t, n, _ in summary(text)] == [
        ("video", "Video 1"), ("video", "Video 2"), ("video", "frame3.mp4"), ("video", "Video 3")
    ]  # fmt: skip


def test_a_url_urlsplit_cannot_read_keeps_itself_as_title() -> None:
    """Unbalanced brackets make urllib raise ValueError; the CSV reader must not crash on them."""
    manifest = parse_csv_manifest(b"ObjectUrl,Image title\ns3://[bucket/a.jpg,\n")
    assert [e.item.name for e in manifest.entries] == ["s3://[bucket/a.jpg"]


def test_seed_images_with_case_insensitive_headers() -> None:
    text = f"OBJECTURL,image TITLE\n{P}/frame1.jpg,Image 1\n{P}/frame3.jpg,\n"
    assert [(t, n) for t, n, _ in summary(text)] == [("image", "Image 1"), ("image", "frame3.jpg")]


def test_seed_image_groups_and_sequences() -> None:
    groups = f"ObjectUrl,Image group title,Create video\n{P}/frame1.jpg,Group 1,false\n{P}/frame2.jpg,Group 1,false\n{P}/frame3.jpg,Group 2,false\n{P}/frame4.jpg,Group 2,false\n"
    assert summary(groups) == [
        ("image_group", "Group 1", [f"{P}/frame1.jpg", f"{P}/frame2.jpg"]),
        ("image_group", "Group 2", [f"{P}/frame3.jpg", f"{P}/frame4.jpg"]),
    ]
    sequences = f"ObjectUrl,Image group title,Create video\n{P}/frame1.jpg,Sequence 1,true\n{P}/frame2.jpg,Sequence 1,\n"
    assert summary(sequences) == [("image_sequence", "Sequence 1", [f"{P}/frame1.jpg", f"{P}/frame2.jpg"])]
    without_column = f"ObjectUrl,Image group title\n{P}/a.jpg,G\n"
    assert summary(without_column)[0][0] == "image_group"


def test_seed_dicom_series_grouped_by_title() -> None:
    text = (
        f"ObjectUrl,Series title\n{P}/frame1.dcm,dicom series 1\n{P}/frame2.dcm,dicom series 1\n"
        f"{P}/frame3.dcm,dicom series 2\n{P}/frame4.dcm,dicom series 2\n{P}/frame5.dcm,dicom series 3\n"
    )
    result = summary(text)
    assert [(t, n, len(u)) for t, n, u in result] == [
        ("dicom_series", "dicom series 1", 2), ("dicom_series", "dicom series 2", 2), ("dicom_series", "dicom series 3", 1)
    ]  # fmt: skip
    entry = parse_csv_manifest(text).entries[0]
    assert [c.item_type for c in entry.item.children] == [ItemType.DICOM_FILE] * 2
    assert summary(f"ObjectUrl,Dicom title\n{P}/x.dcm,\n") == [("dicom_series", "x.dcm", [f"{P}/x.dcm"])]


def test_seed_multiple_file_types_in_one_csv() -> None:
    text = (
        "ObjectUrl,Image group title,Create video\n"
        f"{P}/frame1.jpg,Sequence 1,true\n{P}/frame2.jpg,Sequence 1,true\n"
        f"{P}/frame3.jpg,Sequence 2,true\n{P}/frame4.jpg,Sequence 2,true\n"
        f"{P}/frame5.jpg,Group 1,false\n{P}/frame6.jpg,Group 1,false\n"
        "ObjectUrl,Image title,Create video\n"
        f"{P}/frame1.jpg,Image 1,false\n"
        "ObjectUrl,Image title,Create video\n"
        "full/storage/path/video.mp4,Video 1,false\n"
    )
    assert [(t, n, len(u)) for t, n, u in summary(text)] == [
        ("image_sequence", "Sequence 1", 2),
        ("image_sequence", "Sequence 2", 2),
        ("image_group", "Group 1", 2),
        ("image", "Image 1", 1),
        ("video", "Video 1", 1),
    ]


def test_legacy_single_column_means_videos() -> None:
    assert summary("ObjectUrl\ns3://b/a.mp4\n") == [("video", "a.mp4", ["s3://b/a.mp4"])]
    with pytest.raises(
        ManifestError, match="line 3, column 1 \\(ObjectUrl\\): Expected a video, got a file of type image"
    ):
        parse_csv_manifest("ObjectUrl\ns3://b/a.mp4\ns3://b/b.jpg\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "ObjectUrl,Image title\ns3://b/my file.jpg,x\n",
            "line 2, column 1 (ObjectUrl): the URL contains whitespace; percent-encode it",
        ),
        ("s3://b/a.jpg,x\n", "line 1: expected a header row first: ObjectUrl, then one of"),
        ("ObjectUrl,Picture title\ns3://b/a.jpg,x\n", "line 1: unknown column 'Picture title'"),
        (
            "ObjectUrl,Image group title,Create video\ns3://b/a.jpg,G,maybe\n",
            "line 2, column 3 (Create video): expected true, false or blank, got 'maybe'",
        ),
        (
            "ObjectUrl,Image title\ns3://b/a.jpg," + "t" * 301 + "\n",
            "line 2, column 2 (title): the title is 301 characters",
        ),
    ],
)
def test_errors_name_line_and_column(text: str, message: str) -> None:
    with pytest.raises(ManifestError) as err:
        parse_csv_manifest(text, source="upload.csv")
    assert any(message in p for p in err.value.problems), err.value.problems


def test_entry_limit() -> None:
    text = "ObjectUrl,Image title\n" + "".join(f"s3://b/{n}.jpg,\n" for n in range(10_001))
    with pytest.raises(ManifestError, match="10,001 entries; a CSV can hold up to 10,000"):
        parse_csv_manifest(text)


def test_bom_and_blank_lines_are_tolerated() -> None:
    assert summary("\ufeffObjectUrl,Image title\n\ns3://b/a.jpg,A\n\n") == [("image", "A", ["s3://b/a.jpg"])]


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(
            list("ObjectUrl,Image title group Create video\n\"' s3:/.jpgmp4dcm truefalse")
        ),
        max_size=300,
    )
)
def test_random_csv_only_raises_manifest_errors(text: str) -> None:
    with contextlib.suppress(ManifestError):  # anything else escaping fails the test
        parse_csv_manifest(text)


# --- encodings (issue 13, item 11) ------------------------------------------------------------

CSV_TEXT = "ObjectUrl,Image title\ns3://b/a.jpg,Café ü\ns3://b/b.jpg,\n"


@pytest.mark.parametrize(
    "encoded",
    [
        CSV_TEXT.encode(),
        codecs.BOM_UTF8 + CSV_TEXT.encode(),
        codecs.BOM_UTF16_LE + CSV_TEXT.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + CSV_TEXT.encode("utf-16-be"),
    ],
    ids=["utf-8", "utf-8 bom", "utf-16 le", "utf-16 be"],
)
def test_utf8_and_utf16_with_a_bom_read_the_same(encoded: bytes) -> None:
    manifest = parse_csv_manifest(encoded)
    assert [e.item.name for e in manifest.entries] == ["Café ü", "b.jpg"]
    assert [e.item.name for e in parse_manifest(encoded, source="upload").entries] == ["Café ü", "b.jpg"]


def test_a_latin1_csv_is_refused_naming_line_and_byte() -> None:
    data = "ObjectUrl,Image title\ns3://b/a.jpg,Café\n".encode("latin-1")
    with pytest.raises(ManifestError) as refused:
        parse_csv_manifest(data, source="upload.csv")
    (problem,) = refused.value.problems
    assert problem == (
        "the CSV is not UTF-8: line 2 byte 17 (0xE9) cannot be read; save it as UTF-8 (for example "
        '"CSV UTF-8" in Excel) and upload it again'
    )


def test_utf16_without_a_bom_is_refused_by_name() -> None:
    with pytest.raises(ManifestError, match="UTF-16 without a byte order mark"):
        parse_csv_manifest(CSV_TEXT.encode("utf-16-le"))


@pytest.mark.parametrize(
    ("row", "where"),
    [
        ("s3://b/\x00.jpg,A", "line 2, column 1 (ObjectUrl)"),
        ("s3://b/a.jpg,A\x00", "line 2, column 2 (title)"),
    ],
)
def test_a_nul_in_a_cell_is_a_located_problem(row: str, where: str) -> None:
    with pytest.raises(ManifestError) as refused:
        parse_csv_manifest(f"ObjectUrl,Image title\n{row}\n")
    (problem,) = refused.value.problems
    assert problem.startswith(f"{where}: ") and "NUL" in problem


def test_an_oversized_cell_is_a_located_problem_not_a_crash() -> None:
    with pytest.raises(ManifestError) as refused:
        parse_csv_manifest("ObjectUrl,Image title\ns3://b/a.jpg," + "x" * 200_000 + "\n")
    (problem,) = refused.value.problems
    assert problem.startswith("line 2: field larger than field limit")


def test_guarded_titles_read_back_as_the_text_they_guard() -> None:
    """A title cell written formula-safe (``'=1+1.png``, as ``manifest generate --format csv`` and
    a spreadsheet's text prefix write it) is the title ``=1+1.png``; CSV writers guard it again."""
    text = (
        "ObjectUrl,Image title\n"
        "s3://b/1.png,'=1+1.png\ns3://b/2.png,'+sum\ns3://b/3.png,'-minus\ns3://b/4.png,'@at\n"
        "s3://b/5.png,''quoted\ns3://b/6.png,'plain\ns3://b/7.png,-raw\n"
        "ObjectUrl,Image group title\ns3://b/g1.png,'=group\ns3://b/g2.png,=group\n"
    )
    assert [(t, n) for t, n, _ in summary(text)] == [
        ("image", "=1+1.png"), ("image", "+sum"), ("image", "-minus"), ("image", "@at"),
        ("image", "'quoted"), ("image", "'plain"), ("image", "-raw"), ("image_group", "=group"),
    ]  # fmt: skip
    assert [len(e.item.children) for e in parse_csv_manifest(text).entries][-1] == 2
