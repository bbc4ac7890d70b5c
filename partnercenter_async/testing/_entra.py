"""A fake Microsoft Entra ID token endpoint over TLS, for real azure-identity credentials.

Serves ``POST /{tenant}/oauth2/v2.0/token`` for the ``client_credentials`` grant (a client
secret) and the ``refresh_token`` grant (rotating the refresh token on every use), with Entra
ID's error bodies. TLS comes from a throwaway CA (``trustme``, a test dependency, imported only
when the fake starts); point a credential at it with ``authority=fake.authority`` and
``connection_verify=str(fake.ca_file)``, or a subprocess with ``AZURE_AUTHORITY_HOST`` and
``SSL_CERT_FILE``.
"""

from __future__ import annotations

import base64
import ssl
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import msgspec
from aiohttp import web

TENANT_ID = "7d2f9e54-1c3b-4a8e-9f60-2b7c1d4e5a6f"
CLIENT_ID = "3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
CLIENT_SECRET = "fake~client~secret~Qm9vaz8"
REFRESH_TOKEN = "0.AXEAfake-refresh-token-0"


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """One request the fake received.

    Attributes:
        path: The request path.
        grant_type: The form's ``grant_type`` (empty when absent or not a form).
        scope: The form's ``scope``.
        status: The status it was answered with.
    """

    path: str
    grant_type: str
    scope: str
    status: int


class FakeEntraID:
    """A fake Entra ID token endpoint on ``https://127.0.0.1:{port}`` with a throwaway CA.

    Stricter than the real one in one way: a redeemed refresh token stops working at once (the
    real service keeps it valid until it expires), so a test sees whether the rotated one is used.

    Example:
        >>> async with FakeEntraID(lifetime=3600) as entra:
        ...     credential = ClientSecretCredential(
        ...         TENANT_ID, CLIENT_ID, CLIENT_SECRET,
        ...         authority=entra.authority, connection_verify=str(entra.ca_file),
        ...     )

    Args:
        tenant_id: The only tenant it knows.
        client_id: The only application it knows.
        client_secret: The application's secret.
        refresh_token: The refresh token valid at the start.
        client_certificate: The application's certificate (PEM), to check the signed assertions
            of certificate credentials (``client_assertion``, PS256 or RS256); None refuses them.
        lifetime: ``expires_in`` of each access token, in seconds.

    Attributes:
        issued: Every access token issued, in order (``access_token(n)`` is the n-th).
        requests: Every request received, in order.
        refresh_token: The refresh token valid now.
    """

    def __init__(
        self,
        *,
        tenant_id: str = TENANT_ID,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        refresh_token: str = REFRESH_TOKEN,
        client_certificate: bytes | None = None,
        lifetime: int = 3600,
    ) -> None:
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.client_certificate = client_certificate
        self.refresh_token = refresh_token
        self.lifetime = lifetime
        self.issued: list[str] = []
        self.requests: list[TokenRequest] = []
        self._rotations = 0
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._directory: tempfile.TemporaryDirectory[str] | None = None
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self._handle)

    def access_token(self, n: int) -> str:
        """The ``n``-th access token this fake issues (1-based): a JWT-shaped, unsigned string."""
        header = {"alg": "none", "typ": "JWT"}
        claims = {
            "aud": "https://api.partnercenter.microsoft.com",
            "tid": self.tenant_id,
            "appid": self.client_id,
            "n": n,
        }
        return ".".join(
            [_b64(msgspec.json.encode(header)), _b64(msgspec.json.encode(claims)), "ZmFrZQ"]
        )

    @property
    def authority(self) -> str:
        """``"127.0.0.1:{port}"``, for a credential's ``authority``, once started."""
        if self._port is None:
            raise RuntimeError("the fake Entra ID is not started")
        return f"127.0.0.1:{self._port}"

    @property
    def authority_url(self) -> str:
        """``"https://127.0.0.1:{port}"``, for ``AZURE_AUTHORITY_HOST``, once started."""
        return f"https://{self.authority}"

    @property
    def ca_file(self) -> Path:
        """The PEM file of the CA that signed the server's certificate, once started."""
        if self._directory is None:
            raise RuntimeError("the fake Entra ID is not started")
        return Path(self._directory.name) / "ca.pem"

    async def start(self) -> str:
        """Serve over TLS on a free port of 127.0.0.1; return the authority URL."""
        import trustme  # a test dependency: only the fake needs it

        if self._runner is not None:
            raise RuntimeError("the fake Entra ID is already started")
        ca = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self._directory = tempfile.TemporaryDirectory(prefix="fake-entra-")
        ca.cert_pem.write_to_path(str(self.ca_file))
        runner = web.AppRunner(self.app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = runner.addresses[0][1]
        return self.authority_url

    async def close(self) -> None:
        """Stop serving and delete the CA file; safe to call twice."""
        runner, self._runner, self._port = self._runner, None, None
        if runner is not None:
            await runner.cleanup()
        directory, self._directory = self._directory, None
        if directory is not None:
            directory.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def _handle(self, request: web.Request) -> web.Response:
        fields: dict[str, str] = {}
        if request.method == "POST":
            fields = {key: str(value) for key, value in (await request.post()).items()}
        response = self._answer(request, fields)
        self.requests.append(
            TokenRequest(
                request.path, fields.get("grant_type", ""), fields.get("scope", ""), response.status
            )
        )
        return response

    def _answer(self, request: web.Request, fields: dict[str, str]) -> web.Response:
        if request.method != "POST" or request.path != f"/{self.tenant_id}/oauth2/v2.0/token":
            if request.path.endswith("/oauth2/v2.0/token"):
                return _error(400, "invalid_request", 90002, "Tenant not found.")
            return _error(404, "not_found", 0, f"No such endpoint: {request.method} {request.path}")
        grant = fields.get("grant_type", "")
        if fields.get("client_id") != self.client_id:
            return _error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{fields.get('client_id')}' was not found in the "
                f"directory '{self.tenant_id}'.",
            )
        if not fields.get("scope"):
            return _error(400, "invalid_request", 90014, "The request body must contain 'scope'.")
        secret = fields.get("client_secret")
        if "client_assertion" in fields:
            problem = self._check_assertion(fields["client_assertion"], request)
            if problem:
                return _error(401, "invalid_client", 700027, f"Client assertion {problem}.")
        elif (grant == "client_credentials" or secret is not None) and secret != self.client_secret:
            return _error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request "
                "is the client secret value, not the client secret ID, for a secret added to "
                f"app '{self.client_id}'.",
            )
        content: dict[str, object] = {"token_type": "Bearer", "scope": fields["scope"]}
        if grant == "refresh_token":
            if fields.get("refresh_token") != self.refresh_token:
                return _error(
                    400,
                    "invalid_grant",
                    70000,
                    "Provided grant is invalid or malformed (the refresh token was redeemed "
                    "already, or never issued).",
                )
            self._rotations += 1
            self.refresh_token = f"0.AXEAfake-refresh-token-{self._rotations}"
            content["refresh_token"] = self.refresh_token
        elif grant != "client_credentials":
            return _error(
                400, "unsupported_grant_type", 70003, f"The grant type {grant!r} is not supported."
            )
        self.issued.append(self.access_token(len(self.issued) + 1))
        content.update(
            expires_in=self.lifetime, ext_expires_in=self.lifetime, access_token=self.issued[-1]
        )
        return web.Response(body=msgspec.json.encode(content), content_type="application/json")

    def _check_assertion(self, assertion: str, request: web.Request) -> str | None:
        """What is wrong with a certificate credential's signed JWT, or None."""
        from cryptography import x509
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        if self.client_certificate is None:
            return "is not accepted: no certificate is registered"
        try:
            header, claims, signature = (
                base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
                for part in assertion.split(".")
            )
            algorithm = msgspec.json.decode(header)["alg"]
            claims_json = msgspec.json.decode(claims)
        except (ValueError, KeyError, msgspec.DecodeError):
            return "is not a JWT"
        key = x509.load_pem_x509_certificate(self.client_certificate).public_key()
        assert isinstance(key, rsa.RSAPublicKey)
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        scheme = pss if algorithm == "PS256" else padding.PKCS1v15()
        try:
            signed = assertion.rsplit(".", 1)[0].encode()
            key.verify(signature, signed, scheme, hashes.SHA256())
        except InvalidSignature:
            return "failed signature validation"
        audience = f"https://{request.host}{request.path}"
        if claims_json.get("aud") != audience or claims_json.get("iss") != self.client_id:
            return f"has the wrong audience or issuer (expected aud {audience})"
        return None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _error(status: int, error: str, code: int, description: str) -> web.Response:
    trace, correlation = uuid.uuid4(), uuid.uuid4()
    body = {
        "error": error,
        "error_description": f"AADSTS{code}: {description}\r\nTrace ID: {trace}\r\n"
        f"Correlation ID: {correlation}\r\nTimestamp: 2026-01-01 00:00:00Z",
        "error_codes": [code],
        "trace_id": str(trace),
        "correlation_id": str(correlation),
    }
    return web.Response(
        status=status, body=msgspec.json.encode(body), content_type="application/json"
    )
