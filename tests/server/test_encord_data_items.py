"""Typed ``DataUploadItems`` through the official ``encord`` SDK, unchanged, against a real
bucketdex server, on SQLite and PostgreSQL (issue 17): image groups, image sequences and DICOM
series built as objects (not the registration JSON) register as the same JSON would; what
bucketdex cannot keep (a frame's own title, scenes, groups from existing items) is a 400 naming
the ``dataItems`` path, and nothing is registered."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from encord.exceptions import InvalidArgumentsError
from encord.orm.dataset import LongPollingStatus
from encord.orm.storage import (
    DataUploadDicomSeries,
    DataUploadDicomSeriesDicomFile,
    DataUploadImage,
    DataUploadImageGroup,
    DataUploadImageGroupFromItems,
    DataUploadImageGroupImage,
    DataUploadItems,
    DataUploadScene,
    StorageItemType,
)
from encord.storage import StorageFolder
from encord_sdk_support import DiskSession as Session
from encord_sdk_support import disk_session
from fastapi import FastAPI
from pydicom.data import get_testdata_file
from server_support import Tenant


@pytest.fixture
def session(app: FastAPI, org_a: Tenant, tmp_path: Path) -> Iterator[Session]:
    with disk_session(app, org_a, tmp_path) as found:
        (found.bucket / "ct").mkdir()
        shutil.copy(str(get_testdata_file("CT_small.dcm", download=False)), found.bucket / "ct" / "0.dcm")
        yield found


def _url(session: Session, name: str) -> str:
    return f"file://{session.bucket}/{name}"


def _frame(session: Session, name: str, **extra: object) -> DataUploadImageGroupImage:
    return DataUploadImageGroupImage(url=_url(session, name), **extra)  # type: ignore[arg-type]


def _upload(session: Session, folder: StorageFolder, items: DataUploadItems) -> None:
    job = folder.add_private_data_to_folder_start(
        integration_id=str(session.integration_id), private_files=items
    )
    result = folder.add_private_data_to_folder_get_result(job, timeout_seconds=60)
    assert result.status is LongPollingStatus.DONE and not result.unit_errors, result


def test_typed_groups_sequences_and_series_register(session: Session) -> None:
    folder = session.client.create_storage_folder("typed")
    items = DataUploadItems(
        images=[DataUploadImage(object_url=_url(session, "d.png"), title="single")],
        image_groups=[
            DataUploadImageGroup(
                title="pair",
                images=[_frame(session, "a.png"), _frame(session, "b.png", title=f"{session.bucket}/b.png")],
                client_metadata={"split": "train"},
            ),
            DataUploadImageGroup(
                title="clip", images=[_frame(session, "c.png"), _frame(session, "c.png")], create_video=True
            ),
        ],
        dicom_series=[
            DataUploadDicomSeries(
                title="ct",
                dicom_files=[DataUploadDicomSeriesDicomFile(url=_url(session, "ct/0.dcm"), title=None)],
            )
        ],
    )
    _upload(session, folder, items)

    listed = {i.name: i for i in folder.list_items()}
    assert {n: i.item_type for n, i in listed.items()} == {
        "single": StorageItemType.IMAGE,
        "pair": StorageItemType.IMAGE_GROUP,
        "clip": StorageItemType.IMAGE_SEQUENCE,
        "ct": StorageItemType.DICOM_SERIES,
    }
    pair = session.catalog.items.get(listed["pair"].uuid)
    assert pair.client_metadata == {"split": "train"}
    frames = session.catalog.items.children(pair.id)
    assert [f.url for f in frames] == [_url(session, "a.png"), _url(session, "b.png")]
    assert [(f.media.width, f.media.height) for f in frames] == [(64, 48), (30, 90)]  # read from the files
    assert [c.url for c in listed["ct"].get_child_items()] == [_url(session, "ct/0.dcm")]
    series = session.catalog.items.get(listed["ct"].uuid)
    assert series.media.dicom_series_uid  # read from the DICOM file


@pytest.mark.parametrize(
    ("items", "words"),
    [
        (lambda s: DataUploadItems(image_groups=[DataUploadImageGroup(
            title="g", images=[_frame(s, "a.png", title="first frame")])]),
         "dataItems.imageGroups[0].images[0].title: a group's files are named by their URL's path"),
        (lambda s: DataUploadItems(dicom_series=[DataUploadDicomSeries(
            title=None, dicom_files=[DataUploadDicomSeriesDicomFile(url=_url(s, "ct/0.dcm"), title=None)])]),
         "dataItems.dicomSeries[0].title: required for a DICOM series"),
        (lambda s: DataUploadItems(image_groups=[DataUploadImageGroup(title="g", images=[])]),
         "dataItems.imageGroups[0].images: expected a non-empty list of files"),
        (lambda s: DataUploadItems(scenes=[DataUploadScene(title="street", scene={"a": 1})]),
         "dataItems.scenes: bucketdex has no item type for these"),
        (lambda s: DataUploadItems(image_groups_from_items=[DataUploadImageGroupFromItems(
            image_items=[uuid.uuid4()], title="g", create_video=False)]),
         "dataItems.imageGroupsFromItems: bucketdex has no item type for these"),
    ],
    ids=["frame-title", "series-title", "no-frames", "scenes", "groups-from-items"],
)  # fmt: skip
def test_what_cannot_be_kept_is_refused_by_its_path(session: Session, items: object, words: str) -> None:
    folder = session.client.create_storage_folder("refused")
    with pytest.raises(InvalidArgumentsError, match=r"dataItems cannot be registered") as refused:
        folder.add_private_data_to_folder_start(
            integration_id=str(session.integration_id),
            private_files=items(session),  # type: ignore[operator]
        )
    assert words in str(refused.value)
    assert list(folder.list_items()) == [] and session.catalog.jobs.recent(limit=10) == []  # nothing started
