"""A real S3-compatible server for the media storage tests: moto's standalone server on a free loopback port,
with credential checking switched on, so a wrong key is refused as a real service refuses it."""

from __future__ import annotations

import json
import urllib.request
import uuid
from dataclasses import dataclass

import boto3
from moto.server import ThreadedMotoServer

REGION = "eu-central-1"
# Requests moto answers before it starts checking credentials: the IAM user, its key and its policy.
SETUP_REQUESTS = 3


@dataclass(frozen=True)
class S3Service:
    endpoint: str
    access_key: str
    secret_key: str

    def client(self, access_key: str | None = None, secret_key: str | None = None):
        return boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id=access_key or self.access_key,
                            aws_secret_access_key=secret_key or self.secret_key)

    def new_bucket(self) -> str:
        name = f"stadtbote-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        return name

    def media_section(self, bucket: str, **overrides) -> dict:
        return {"backend": "s3", "endpoint": self.endpoint, "bucket": bucket, "region": REGION,
                "access_key": self.access_key, "secret_key": self.secret_key, **overrides}

    def objects(self, bucket: str) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in listed.get("Contents", []))


def start_s3_service() -> tuple[ThreadedMotoServer, S3Service]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    request = urllib.request.Request(f"{endpoint}/moto-api/reset-auth", method="POST",
                                     data=str(SETUP_REQUESTS).encode(), headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(request, timeout=10).close()
    iam = boto3.client("iam", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="setup",
                       aws_secret_access_key="setup")
    iam.create_user(UserName="stadtbote")
    key = iam.create_access_key(UserName="stadtbote")["AccessKey"]
    iam.put_user_policy(UserName="stadtbote", PolicyName="media", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    return server, S3Service(endpoint, key["AccessKeyId"], key["SecretAccessKey"])
