"""A moto S3 server with IAM authorisation switched on, run as its own process by the fixtures.

moto's authorisation switch is process-wide, and with it on moto cannot serve pre-signed URLs, so
the contract's signed-URL tests use the in-process server without authorisation and the
permission tests use this one.  It creates a bucket and two users (``full``: s3:*; ``readonly``:
s3:GetObject + s3:ListBucket only, no s3:PutObject), turns authorisation on, prints one JSON line
with the endpoint and the generated keys, and serves until its standard input closes.
"""

from __future__ import annotations

import json
import logging
import os
import sys

os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

import boto3
from botocore.config import Config
from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.server import ThreadedMotoServer

BUCKET = "bucketdex-restricted"


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    admin = {
        "endpoint_url": endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": "bootstrap",
        "aws_secret_access_key": "bootstrap",
    }
    iam = boto3.client("iam", **admin)

    def user(name: str, actions: list[str]) -> dict[str, str]:
        iam.create_user(UserName=name)
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
        }
        iam.put_user_policy(UserName=name, PolicyName="bucketdex", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}

    full = user("full", ["s3:*"])
    readonly = user("readonly", ["s3:GetObject", "s3:ListBucket"])
    s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}), **admin)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(
        Bucket=BUCKET, Key="media/one.jpg", Body=b"\xff\xd8\xff" + b"0" * 100, ContentType="image/jpeg"
    )
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0  # every request from now on is authenticated
    ActionAuthenticatorMixin.request_count = 0
    print(
        json.dumps({"endpoint": endpoint, "bucket": BUCKET, "full": full, "readonly": readonly}), flush=True
    )
    sys.stdin.read()  # until the parent closes our stdin (or dies)
    server.stop()


if __name__ == "__main__":
    main()
