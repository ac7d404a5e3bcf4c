"""Through the SDK, on both backends: metadata nested far past Python's recursion limit, NUL and
integers past 64 bits are domain errors naming the folder or item and the key (never a
RecursionError or a backend's error), and nothing is written; in a manifest they are unit
errors, the dry run's the job's."""

from __future__ import annotations

import datetime
import sys
import uuid
from typing import Any

import pytest

from bucketdex import Bundle, Client, InvalidArgument, JobStatus, MetadataValidationError
from bucketdex.manifest.errors import ManifestError


def nested(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = {"n": value}
    return value


FAR = 20 * sys.getrecursionlimit()  # far deeper than anything recursive could follow


def _folder_with_item(client: Client) -> Any:
    folder = client.create_storage_folder(f"f-{uuid.uuid4().hex[:8]}")
    job = folder.add_private_data_to_folder_start(None, {"images": [{"objectUrl": "s3://b/a.jpg"}]})
    assert folder.add_private_data_to_folder_get_result(job, timeout_seconds=60).status is JobStatus.DONE
    (item,) = folder.list_items()
    return folder, item


@pytest.mark.parametrize(
    ("metadata", "words"),
    [
        ({"free": nested(FAR)}, "nested deeper than 100 levels"),
        ({"free": {"x": "a\x00"}}, "NUL"),
        ({"free": [2**64]}, "64-bit"),
    ],
    ids=["deep", "nul", "2^64"],
)
def test_item_and_folder_metadata_problems_name_the_key(client: Client, metadata: Any, words: str) -> None:
    folder, item = _folder_with_item(client)
    with pytest.raises(MetadataValidationError) as err:
        item.update(client_metadata=metadata)
    assert str(err.value).startswith(f"item '{item.uuid}': key 'free") and words in str(err.value)
    with pytest.raises(MetadataValidationError, match=words), Bundle() as bundle:
        item.update(client_metadata=metadata, bundle=bundle)
    with pytest.raises(MetadataValidationError) as err:
        client.create_storage_folder("deep", client_metadata=metadata)
    assert str(err.value).startswith("client_metadata of folder 'deep': key 'free")
    with pytest.raises(MetadataValidationError, match=words):
        folder.update(client_metadata=metadata)
    item.refetch_data()
    assert item.client_metadata == {} and [f.name for f in client.find_storage_folders()] == [folder.name]


def test_a_dict_manifest_too_deep_to_send_is_refused_naming_the_entry(client: Client) -> None:
    folder, _ = _folder_with_item(client)
    manifest = {"images": [{"objectUrl": "s3://b/deep.jpg", "clientMetadata": {"free": nested(FAR)}}]}
    for call in (
        lambda: folder.dry_run_private_data(manifest),
        lambda: folder.add_private_data_to_folder_start(None, manifest),
    ):
        with pytest.raises(InvalidArgument) as err:
            call()
        assert str(err.value).startswith("private_files: $.images[0].clientMetadata.free: nested too deeply")
    with pytest.raises(InvalidArgument, match="private_files is not JSON: Object of type date"):
        folder.dry_run_private_data({"images": [{"objectUrl": "s3://b/t.jpg", "x": datetime.date.today()}]})
    assert len(list(folder.list_items())) == 1


@pytest.mark.parametrize("ignore_errors", [False, True])
def test_manifest_metadata_problems_are_unit_errors_of_the_dry_run_and_the_job(
    client: Client, ignore_errors: bool
) -> None:
    folder, _ = _folder_with_item(client)
    images = [
        {"objectUrl": "s3://b/ok.jpg", "clientMetadata": {"free": nested(98), "n": 2**63 - 1}},
        {"objectUrl": "s3://b/deep.jpg", "clientMetadata": {"free": nested(500)}},
        {"objectUrl": "s3://b/nul.jpg", "clientMetadata": {"free\x00": 1}},
        {"objectUrl": "s3://b/big.jpg", "clientMetadata": {"free": [1, 2**63]}},
    ]
    report = folder.dry_run_private_data({"images": images}, ignore_errors=ignore_errors)
    job = folder.add_private_data_to_folder_start(None, {"images": images}, ignore_errors=ignore_errors)
    result = folder.add_private_data_to_folder_get_result(job, timeout_seconds=60)
    expected = ["images[1]", "images[2]", "images[3]"]
    assert [e.location for e in report.unit_errors] == [e.location for e in result.unit_errors] == expected
    keys = [e.error.split("'")[3] for e in result.unit_errors]
    assert [key[:5] for key in keys] == ["free.", "free\\", "free["] and keys[1] == "free\\u0000"
    assert result.unit_errors[1].error.isprintable()  # stored with the NUL as an escape
    urls = sorted(i.url for i in folder.list_items())
    if ignore_errors:
        assert (report.would_add, result.status, urls) == (
            1,
            JobStatus.DONE,
            ["s3://b/a.jpg", "s3://b/ok.jpg"],
        )
    else:
        assert (report.would_fail, result.status, urls) == (True, JobStatus.ERROR, ["s3://b/a.jpg"])


def test_a_manifest_the_reader_refuses_for_a_nul_key_is_refused_alike(client: Client) -> None:
    folder, _ = _folder_with_item(client)
    manifest = b'{"images": [{"objectUrl": "s3://b/x.jpg"}], "\\u0000": 1}'
    with pytest.raises(ManifestError) as err:
        folder.dry_run_private_data(manifest)
    job = folder.add_private_data_to_folder_start(None, manifest, ignore_errors=True)
    result = folder.add_private_data_to_folder_get_result(job, timeout_seconds=60)
    assert result.status is JobStatus.ERROR and len(list(folder.list_items())) == 1
    assert all("\x00" not in e for e in result.errors) and err.value.problems
