"""The official ``encord`` SDK registers images kept in an emulated S3 bucket (moto on
127.0.0.1) through a bucketdex server: the seed-000 workflow, with the media read from S3."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

from encord.orm.dataset import LongPollingStatus
from encord_sdk_support import sdk_client
from fastapi import FastAPI
from PIL import Image
from server_support import Tenant, catalog_of, running_server

from emulators import MOTO_KEYS, make_bucket

SIZES = {"cat.png": (120, 90), "dog.png": (64, 200)}


def test_sdk_upload_from_s3_reads_media_and_refuses_other_buckets(
    app: FastAPI, org_a: Tenant, tmp_path: Path, moto_endpoint: str
) -> None:
    bucket = make_bucket(moto_endpoint)
    catalog = catalog_of(app, org_a)
    integration = catalog.integrations.create(
        "training-data", "s3", bucket, region="us-east-1", endpoint=moto_endpoint, credentials=MOTO_KEYS
    )
    with catalog.integrations.open_store(integration.id) as store:
        for name, size in SIZES.items():
            out = io.BytesIO()
            Image.new("RGB", size).save(out, format="PNG")
            store.put(f"pets/{name}", out.getvalue(), content_type="image/png")
        urls = {name: store.object_url(f"pets/{name}") for name in SIZES}
    manifest = tmp_path / "upload.json"
    manifest.write_text(json.dumps({"images": [
        *({"objectUrl": url, "title": name} for name, url in urls.items()),
        {"objectUrl": urls["cat.png"].replace(bucket, "someone-elses-bucket"), "title": "stray"},
    ], "skip_duplicate_urls": True}))  # fmt: skip

    with running_server(app) as base_url:
        client = sdk_client(org_a, base_url, "ssh", tmp_path)
        folder = client.create_storage_folder(f"pets-{uuid.uuid4().hex[:6]}")
        integration_id = next(i.id for i in client.get_cloud_integrations() if i.title == "training-data")
        job = folder.add_private_data_to_folder_start(
            integration_id=integration_id, private_files=str(manifest), ignore_errors=True
        )
        result = folder.add_private_data_to_folder_get_result(job, timeout_seconds=60)
        assert result.status is LongPollingStatus.DONE
        assert sorted(i.name for i in result.items_with_names) == sorted(SIZES)
        [refused] = result.unit_errors
        assert "someone-elses-bucket" in refused.object_urls[0]
        items = {i.name: i for i in folder.list_items()}
    assert {name: (i.width, i.height) for name, i in items.items()} == SIZES  # read from S3's bytes
    assert all(i.mime_type == "image/png" for i in items.values())
