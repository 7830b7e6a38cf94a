"""Routes every /v1/... CodeArtifact path to one handler; botocore's model picks the operation."""

from .responses import CodeArtifactResponse

url_bases = [r"https?://codeartifact\.(?P<region>[^.]+)\.amazonaws\.com"]

url_paths = {
    "{0}/v1/(?P<path>.*)$": CodeArtifactResponse.dispatch,
}
