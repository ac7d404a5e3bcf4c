"""Input one backend could store and the other not (NUL, lone surrogates, integers past 64 bits),
or that nothing should recurse into (nesting past 100 levels), is refused the same way on SQLite
and PostgreSQL: a domain error naming the thing and the key, and nothing written.  What is
within the limits is stored and read back exactly on both."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from bucketdex.catalog.catalog import Catalog
from bucketdex.catalog.items import ItemUpdate
from bucketdex.catalog.registration import dry_run
from bucketdex.core.records import NewItem, UnitError
from bucketdex.core.types import ItemType, JobStatus
from bucketdex.errors import InvalidArgument, MetadataSchemaError, MetadataValidationError
from bucketdex.manifest.json_format import parse_json_manifest
from bucketdex.store.database import Database


def nested(levels: int) -> Any:
    """A value of ``levels`` levels of objects; inside metadata it adds one more."""
    value: Any = "bottom"
    for _ in range(levels):
        value = {"n": value}
    return value


# client metadata no backend may store, each with the key path its message names
BAD_METADATA = {
    "nul value": ({"free": {"a": ["x\x00"]}}, "free.a[0]", "NUL"),
    "nul key": ({"free": {"k\x00": 1}}, "free.k\\u0000", "NUL"),
    "lone surrogate": ({"free": "\ud800"}, "free", "surrogate"),
    "2^63": ({"free": [2**63]}, "free[0]", "64-bit"),
    "-2^63-1": ({"score": -(2**63) - 1}, "score", "64-bit"),
    "101 levels": ({"free": nested(100)}, "free.n.n", "nested deeper than 100"),
    "300 levels": ({"free": nested(299)}, "free.n.n", "nested deeper than 100"),
    "5000 levels": ({"free": nested(5000)}, "free.n.n", "nested deeper than 100"),
}
# at the limits: stored and read back exactly
EDGE_METADATA = {"free": {"ints": [2**63 - 1, -(2**63)], "deep": nested(98)}, "score": 2**63 - 1}
# (100 levels: the metadata, "free", then nested(98))


@pytest.fixture
def catalog(db: Database) -> Catalog:
    catalog = Catalog(db)
    schema = catalog.schema.load()
    schema.add_scalar("score", data_type="number")
    schema.save()
    return catalog


def _refused(call: Callable[[], Any], error: type[Exception], *words: str) -> str:
    with pytest.raises(error) as err:
        call()
    message = str(err.value)
    assert all(word in message for word in words), message
    assert "\x00" not in message
    return message


# folders ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "description"), [("a\x00b", None), ("ok", "d\x00"), ("\ud83d", None)])
def test_folder_names_and_descriptions_refuse_unstorable_text(
    catalog: Catalog, name: str, description: str | None
) -> None:
    _refused(lambda: catalog.folders.create(name, description), InvalidArgument, "folder")
    folder = catalog.folders.create("kept", "as it was")
    _refused(lambda: catalog.folders.update(folder.id, name=name, description=description), InvalidArgument)
    assert [(f.name, f.description) for f in catalog.folders.find()] == [("kept", "as it was")]


@pytest.mark.parametrize("case", list(BAD_METADATA))
def test_folder_metadata_refuses_what_cannot_be_stored_naming_the_key(catalog: Catalog, case: str) -> None:
    metadata, key, words = BAD_METADATA[case]
    message = _refused(
        lambda: catalog.folders.create("f", client_metadata=metadata), MetadataValidationError, words
    )
    assert message.startswith(f"client_metadata of folder 'f': key '{key}")
    folder = catalog.folders.create("g", client_metadata={"was": 1})
    _refused(
        lambda: catalog.folders.update(folder.id, client_metadata=metadata), MetadataValidationError, key
    )
    assert [(f.name, f.client_metadata) for f in catalog.folders.find()] == [("g", {"was": 1})]


def test_folder_metadata_at_the_limits_is_stored_exactly(catalog: Catalog) -> None:
    folder = catalog.folders.create("f", client_metadata=EDGE_METADATA)
    assert catalog.folders.get(folder.id).client_metadata == EDGE_METADATA


# items -----------------------------------------------------------------------------------------


def _one_item(catalog: Catalog) -> uuid.UUID:
    folder = catalog.folders.create("items")
    catalog.items.add(folder.id, [NewItem(ItemType.IMAGE, "a.jpg", "s3://b/a.jpg", {"score": 1})])
    (item,) = catalog.items.list_in_folder(folder.id)
    return item.id


@pytest.mark.parametrize("case", list(BAD_METADATA))
def test_item_metadata_updates_refuse_what_cannot_be_stored(catalog: Catalog, case: str) -> None:
    metadata, key, words = BAD_METADATA[case]
    item_id = _one_item(catalog)
    message = _refused(
        lambda: catalog.items.update_many([ItemUpdate(item_id, client_metadata=metadata)]),
        MetadataValidationError,
        words,
    )
    assert message.startswith(f"item '{item_id}': key '{key}")
    assert catalog.items.get(item_id).client_metadata == {"score": 1}


@pytest.mark.parametrize("field", ["name", "description"])
def test_item_titles_and_descriptions_refuse_nul(catalog: Catalog, field: str) -> None:
    item_id = _one_item(catalog)
    change = ItemUpdate(item_id, **{field: "x\x00y"})
    _refused(lambda: catalog.items.update_many([change]), InvalidArgument, str(item_id), "NUL")
    assert (catalog.items.get(item_id).name, catalog.items.get(item_id).description) == ("a.jpg", "")


@pytest.mark.parametrize(
    ("item", "words"),
    [
        (NewItem(ItemType.IMAGE, "a\x00.jpg", "s3://b/a.jpg"), ("title of item", "NUL")),
        (NewItem(ItemType.IMAGE, "a.jpg", "s3://b/\x00.jpg"), ("URL of item 'a.jpg'", "NUL")),
        (NewItem(ItemType.IMAGE, "a.jpg", "s3://b/a.jpg", {"free": nested(1000)}), ("'a.jpg'", "nested")),
        (NewItem(ItemType.IMAGE, "a.jpg", "s3://b/a.jpg", {"free": {"x": 2**64}}), ("free.x", "64-bit")),
    ],
)
def test_bulk_added_items_refuse_what_cannot_be_stored(catalog: Catalog, item: NewItem, words: Any) -> None:
    folder = catalog.folders.create("f")
    good = NewItem(ItemType.IMAGE, "good.jpg", "s3://b/good.jpg")
    _refused(lambda: catalog.items.add(folder.id, [good, item]), InvalidArgument, *words)
    assert list(catalog.items.list_in_folder(folder.id)) == []  # nothing half-written


def test_item_metadata_at_the_limits_is_stored_exactly(catalog: Catalog) -> None:
    item_id = _one_item(catalog)
    catalog.items.update_many([ItemUpdate(item_id, client_metadata=EDGE_METADATA)])
    assert catalog.items.get(item_id).client_metadata == EDGE_METADATA


# datasets, integrations, schema ----------------------------------------------------------------


def test_dataset_titles_and_descriptions_refuse_nul(catalog: Catalog) -> None:
    _refused(lambda: catalog.datasets.create("t\x00"), InvalidArgument, "dataset title", "NUL")
    _refused(lambda: catalog.datasets.create("t", "d\x00"), InvalidArgument, "dataset description", "NUL")
    assert catalog.datasets.list_all() == []


def test_integration_titles_refuse_nul(catalog: Catalog) -> None:
    _refused(
        lambda: catalog.integrations.create("i\x00", "s3", "bucket"), InvalidArgument, "integration title"
    )
    assert catalog.integrations.list_all() == []


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ({"w": {"ty": "enum", "values": ["a", "b\x00"]}}, ("w.values[1]", "NUL")),
        ({"u": {"ty": "user", "note": {"x\x00": 1}}}, ("u.note.x\\u0000", "NUL")),
        ({"u": {"ty": "user", "note": 2**70}}, ("u.note", "64-bit")),
        ({"u": {"ty": "user", "note": nested(1000)}}, ("u.note", "nested deeper")),
        ({"k\x00": {"ty": "variant", "hint": "number"}}, ("k\\u0000", "NUL")),
    ],
)
def test_schema_documents_refuse_what_cannot_be_stored(catalog: Catalog, document: Any, words: Any) -> None:
    _refused(lambda: catalog.schema.save_document(document), MetadataSchemaError, "metadata schema", *words)
    assert catalog.schema.load().keys() == ["score"]


def test_schema_enum_values_and_keys_refuse_nul(catalog: Catalog) -> None:
    schema = catalog.schema.load()
    _refused(lambda: schema.add_enum("w", values=["a", "b\x00"]), MetadataSchemaError, "'w'", "NUL")
    _refused(lambda: schema.add_scalar("k\x00", data_type="number"), MetadataSchemaError, "invalid")
    schema.add_enum("w", values=["a"])
    _refused(lambda: schema.add_enum_options("w", values=["\x00"]), MetadataSchemaError, "NUL")
    assert schema.get_enum_options("w") == ["a"]


# manifests: a unit error each, the dry run's verdict the registration's ------------------------


def test_manifest_metadata_problems_are_unit_errors_the_dry_run_predicts(catalog: Catalog) -> None:
    folder = catalog.folders.create("f")
    images = [{"objectUrl": "s3://b/ok.jpg", "clientMetadata": EDGE_METADATA}]
    # (the reader refuses a lone surrogate, or 5000 levels, as not JSON: the whole manifest)
    bad = [case for name, case in BAD_METADATA.items() if name not in ("5000 levels", "lone surrogate")]
    images += [
        {"objectUrl": f"s3://b/{n}.jpg", "clientMetadata": metadata} for n, (metadata, _, _) in enumerate(bad)
    ]
    text = json.dumps({"images": images})
    for ignore_errors in (False, True):
        report = dry_run(catalog.db, catalog.org_id, folder.id, parse_json_manifest(text), ignore_errors=True)
        result = catalog.register(folder.id, parse_json_manifest(text), ignore_errors=ignore_errors)
        assert _located(result.unit_errors) == _located(report.unit_errors)
        found = _located(result.unit_errors)
        assert [(where, url) for where, url, _ in found] == [
            (f"images[{n + 1}]", f"s3://b/{n}.jpg") for n in range(len(bad))
        ]
        assert all(key.startswith(case[1]) for (_, _, key), case in zip(found, bad, strict=True))
        assert result.status is (JobStatus.DONE if ignore_errors else JobStatus.ERROR)
    (item,) = catalog.items.list_in_folder(folder.id)  # registered once, by the ignore_errors run
    assert item.client_metadata == images[0]["clientMetadata"]


def _located(errors: Any) -> list[tuple[str, str, str]]:
    return sorted((e.location, e.object_urls[0], e.error.split("'")[3]) for e in errors)


# the job's own record holds any text -----------------------------------------------------------


def test_job_records_store_unstorable_text_as_escapes(catalog: Catalog) -> None:
    folder = catalog.folders.create("f")
    failed = catalog.jobs.create(folder.id, source_name="up\x00load.json")
    catalog.jobs.fail(failed.id, ["$.k\x00: unknown top-level key", "lone \udc00"])
    job = catalog.jobs.get(failed.id)
    assert (job.status, job.source_name) == (JobStatus.ERROR, "up\\u0000load.json")
    assert job.errors == ("$.k\\u0000: unknown top-level key", "lone \\udc00")

    from bucketdex.catalog.registration import RegistrationResult

    finished = catalog.jobs.create(folder.id)
    error = UnitError("images[0]", ("s3://b/\x00.jpg",), "URL has a NUL \x00")
    with catalog.db.write() as conn:
        catalog.jobs.claim(conn, finished.id)
        outcome = RegistrationResult(JobStatus.DONE, unit_errors=(error,), errors=("e\x00",))
        catalog.jobs.finish(conn, finished.id, outcome, units=1)
    (stored,) = catalog.jobs.get(finished.id).unit_errors
    assert stored["object_urls"] == ["s3://b/\\u0000.jpg"] and stored["error"] == "URL has a NUL \\u0000"
    assert catalog.jobs.get(finished.id).errors == ("e\\u0000",)


def test_a_folder_search_holding_nul_is_refused_alike(catalog: Catalog) -> None:
    catalog.folders.create("cats")
    _refused(lambda: list(catalog.folders.find("c\x00")), InvalidArgument, "search", "NUL")
    assert [f.name for f in catalog.folders.find("CAT")] == ["cats"]
