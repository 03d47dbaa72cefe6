"""Vertex AI: the same `generateContent` (and streaming) wire format, under a project and a location.

```python
client = llm.client(
    "google",
    vertexai=True,
    project="my-project",
    location="us-central1",
    api_key=access_token,  # `gcloud auth print-access-token`
)
```

Vertex authenticates with an OAuth access token sent as `Authorization: Bearer ...`, given as
`api_key`. Tokens expire (about an hour); make a new client with a fresh one. No Google auth
library is needed or imported.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["DEFAULT_LOCATION", "base_url", "location", "model_path", "project"]

DEFAULT_LOCATION = "global"
"""Where requests go when neither `location=` nor `GOOGLE_CLOUD_LOCATION` says."""


def project(options: Mapping[str, object]) -> str | None:
    """The Google Cloud project: the `project` option, else `GOOGLE_CLOUD_PROJECT`."""
    value = options.get("project")
    if isinstance(value, str):
        return value
    return os.environ.get("GOOGLE_CLOUD_PROJECT")


def location(options: Mapping[str, object]) -> str:
    """The region: the `location` option, else `GOOGLE_CLOUD_LOCATION`, else `"global"`."""
    value = options.get("location")
    if isinstance(value, str):
        return value
    return os.environ.get("GOOGLE_CLOUD_LOCATION") or DEFAULT_LOCATION


def base_url(options: Mapping[str, object]) -> str:
    """The regional endpoint; `global` has no region in its host name."""
    configured = os.environ.get("GOOGLE_VERTEX_BASE_URL")
    if configured:
        return configured
    where = location(options)
    if where == "global":
        return "https://aiplatform.googleapis.com"
    return f"https://{where}-aiplatform.googleapis.com"


def model_path(model: str, options: Mapping[str, object]) -> str:
    """The resource path of a model, after the API version.

    A bare name is a Google publisher model; `publishers/meta/models/...` or `endpoints/123`
    are placed under the project and location; a full `projects/...` path is kept.
    """
    if model.startswith("projects/"):
        return model
    prefix = f"projects/{project(options)}/locations/{location(options)}"
    if "/" in model:
        return f"{prefix}/{model}"
    return f"{prefix}/publishers/google/models/{model}"
