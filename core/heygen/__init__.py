"""HeyGen v3 client: session with cache and retries, typed objects and typed errors."""

from core.heygen.client import HeyGenClient as HeyGenClient
from core.heygen.errors import *  # noqa: F403
from core.heygen.types import *  # noqa: F403
