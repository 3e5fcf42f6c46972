"""A generated corpus of realistic (fake) secrets embedded in commands, configs and tool
output, for the redaction tests and benchmarks/redaction.py.

Each sample is (kind, text, secret): after redaction `secret` must not occur in the text.
Values are drawn from a seeded generator so a run is repeatable; the shapes follow each
provider's documented token format.
"""

from __future__ import annotations

import base64
import random
import string
from collections.abc import Callable

ALNUM = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"
HEX = "0123456789abcdef"
WORDS = [
    "orange", "falcon", "river", "quartz", "mosaic", "harbor", "velvet", "cobalt",
    "summit", "lantern", "meadow", "ember", "glacier", "thunder", "saffron", "willow",
]  # fmt: skip


def pick(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def password(rng: random.Random) -> str:
    """What people use: words, digits and a symbol, or a generated one."""
    if rng.random() < 0.5:
        word = rng.choice(WORDS).capitalize() + rng.choice(WORDS)
        return word + str(rng.randint(10, 9999)) + rng.choice("!#%&*?@")
    return pick(rng, ALNUM + "!#%*-_", rng.randint(12, 24))


def pem(rng: random.Random, label: str, escaped_newlines: bool = False) -> str:
    nl = "\\n" if escaped_newlines else "\n"
    body = nl.join(pick(rng, B64, 64) for _ in range(rng.randint(4, 8)))
    return f"-----BEGIN {label}-----{nl}{body}{nl}-----END {label}-----"


def jwt(rng: random.Random) -> str:
    def part(payload: str) -> str:
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")

    header = part('{"alg":"HS256","typ":"JWT"}')
    body = part(f'{{"sub":"{rng.randint(1000, 99999)}","name":"{rng.choice(WORDS)}"}}')
    return f"{header}.{body}.{pick(rng, URLSAFE, 43)}"


Gen = Callable[[random.Random], tuple[str, str]]


def _aws_key(r):
    key = "AKIA" + pick(r, UPPER_DIGITS, 16)
    return f"$ aws configure list\n   access_key     ****************{key[-4:]} shared\n{key}", key


def _aws_secret(r):
    s = pick(r, B64, 40)
    k = "AKIA" + pick(r, UPPER_DIGITS, 16)
    return f"[default]\naws_access_key_id = {k}\naws_secret_access_key = {s}\n", s


def _aws_env(r):
    s = pick(r, B64, 40)
    return f"export AWS_SECRET_ACCESS_KEY={s}\naws s3 ls s3://my-bucket", s


def _gcp_key(r):
    k = "AIza" + pick(r, URLSAFE, 35)
    return f'curl "https://maps.googleapis.com/maps/api/geocode/json?address=x&key={k}"', k


def _gcp_sa(r):
    key = pem(r, "PRIVATE KEY", escaped_newlines=True)
    secret = key.split("\\n")[2]
    return (
        '{"type": "service_account", "project_id": "demo-123", '
        f'"private_key_id": "{pick(r, HEX, 40)}", "private_key": "{key}", '
        '"client_email": "svc@demo-123.iam.gserviceaccount.com"}',
        secret,
    )


def _azure_conn(r):
    k = pick(r, B64, 86) + "=="
    return (
        "AZURE_STORAGE_CONNECTION_STRING='DefaultEndpointsProtocol=https;AccountName=acct;"
        f"AccountKey={k};EndpointSuffix=core.windows.net'",
        k,
    )


def _azure_secret(r):
    s = pick(r, ALNUM, 3) + str(r.randint(0, 9)) + "Q~" + pick(r, ALNUM + "_~.-", 34)
    return f'az login --service-principal -u {pick(r, HEX, 8)} -p "{s}" --tenant t1', s


def _azure_sas(r):
    sig = pick(r, ALNUM, 40) + "%3D"
    return f"azcopy copy f.txt 'https://a.blob.core.windows.net/c?sv=2022-11-02&sig={sig}'", sig


def _github(r):
    t = "ghp_" + pick(r, ALNUM, 36)
    return f"git remote set-url origin https://{t}@github.com/acme/app.git", t


def _github_pat(r):
    t = "github_pat_" + pick(r, ALNUM, 22) + "_" + pick(r, ALNUM, 59)
    return f'gh auth login --with-token <<< "{t}"', t


def _gitlab(r):
    t = "glpat-" + pick(r, URLSAFE, 20)
    return f'curl --header "PRIVATE-TOKEN: {t}" https://gitlab.com/api/v4/projects', t


def _slack(r):
    t = f"xoxb-{r.randint(10**10, 10**11)}-{r.randint(10**10, 10**11)}-{pick(r, ALNUM, 24)}"
    return f"SLACK_BOT={t}\nnode bot.js", t


def _slack_hook(r):
    url = f"https://hooks.slack.com/services/T{pick(r, UPPER_DIGITS, 8)}/B{pick(r, UPPER_DIGITS, 8)}/{pick(r, ALNUM, 24)}"  # noqa: E501
    return f'curl -X POST -d \'{{"text":"deployed"}}\' {url}', url.rsplit("/", 1)[1]


def _npm(r):
    t = "npm_" + pick(r, ALNUM, 36)
    return f"//registry.npmjs.org/:_authToken={t}\nalways-auth=true", t


def _pypi(r):
    t = "pypi-AgEIcHlwaS5vcmc" + pick(r, URLSAFE, 100)
    return f"[pypi]\n  username = __token__\n  password = {t}\n", t


def _anthropic(r):
    t = "sk-ant-api03-" + pick(r, URLSAFE, 93) + "AA"
    return f"$ env | grep ANTHROPIC\nANTHROPIC_API_KEY={t}", t


def _openai(r):
    t = "sk-proj-" + pick(r, URLSAFE, 48)
    return f'client = OpenAI(api_key="{t}")', t


def _openai_legacy(r):
    t = "sk-" + pick(r, ALNUM, 20) + "T3BlbkFJ" + pick(r, ALNUM, 20)
    return f"OPENAI_API_KEY: {t}", t


def _hf(r):
    t = "hf_" + pick(r, string.ascii_letters, 34)
    return f"huggingface-cli login --token {t}", t


def _stripe(r):
    t = "sk_live_" + pick(r, ALNUM, 24)
    return f"stripe.api_key = '{t}'", t


def _sendgrid(r):
    t = "SG." + pick(r, URLSAFE, 22) + "." + pick(r, URLSAFE, 43)
    return f"SENDGRID_API_KEY={t} python send.py", t


def _twilio(r):
    t = "SK" + pick(r, HEX, 32)
    return f"twilio api:core:messages:create --api-key {t}", t


def _mailchimp(r):
    t = pick(r, HEX, 32) + "-us" + str(r.randint(1, 20))
    return f"mailchimp:\n  key: {t}\n", t


def _telegram(r):
    t = f"{r.randint(10**8, 10**9)}:AA{pick(r, URLSAFE, 33)}"
    return f"curl https://api.telegram.org/bot{t}/getMe", t


def _jwt(r):
    t = jwt(r)
    return f"Set-Cookie: session={t}; Path=/; HttpOnly", t


def _pem(r):
    label = r.choice(["RSA PRIVATE KEY", "OPENSSH PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY"])
    key = pem(r, label)
    return f"$ cat ~/.ssh/id_deploy\n{key}\n$ ls", key.splitlines()[1]


def _url_creds(r):
    p = password(r).replace("@", "!").replace("/", "-")
    scheme = r.choice(["postgres", "mysql", "redis", "amqp", "mongodb+srv", "https"])
    return f"DATABASE_URL={scheme}://app_user:{p}@db.internal:5432/prod", p


def _bearer(r):
    t = pick(r, URLSAFE + ".", r.randint(24, 64))
    return f'curl -s -H "Authorization: Bearer {t}" https://api.example.com/v1/me', t


def _basic(r):
    t = base64.b64encode(f"admin:{password(r)}".encode()).decode()
    return f"GET /admin HTTP/1.1\nHost: intranet\nAuthorization: Basic {t}\n", t


def _curl_user(r):
    p = password(r).replace("'", "")
    return f"curl -u deploy:'{p}' https://ci.example.com/job/build", p


def _password_kw(r):
    p = password(r)
    fmt = r.choice(
        [
            "password={p}",
            "db:\n  user: app\n  password: {p}\n",
            '{{"username": "app", "password": "{p}"}}',
            "mysql --user=root --password={p} prod",
            "DB_PASSWORD={p}",
            "[client]\npassword = {p}",
            "<password>{p}</password>",
        ]
    )
    return fmt.format(p=p), p


def _api_key_kw(r):
    k = pick(r, ALNUM, r.choice([24, 32, 40]))
    fmt = r.choice(["api_key: {k}", "apiKey = '{k}'", "X-Api-Key: {k}", 'API_KEY="{k}"'])
    return fmt.format(k=k), k


def _secret_env(r):
    k = pick(r, URLSAFE, r.randint(20, 50))
    name = r.choice(["SECRET_KEY", "JWT_SECRET", "SECRET_TOKEN", "WEBHOOK_SECRET", "APP_SECRET"])
    return f"$ cat .env\nDEBUG=false\n{name}={k}\nPORT=8080", k


def _env_word_password(r):
    # a passphrase of plain words, in a secret-named environment variable
    p = "".join(r.choice(WORDS) for _ in range(3))
    return f"REDIS_PASSWORD={p} docker compose up -d", p


def _high_entropy(r):
    k = pick(r, ALNUM, r.randint(28, 48))
    name = r.choice(["session_cookie", "signature", "cookie", "client_ref", "nonce_seed"])
    return f'{name} = "{k}"', k


GENERATORS: dict[str, Gen] = {
    "aws-access-key": _aws_key,
    "aws-secret-key": _aws_secret,
    "aws-secret-env": _aws_env,
    "gcp-api-key": _gcp_key,
    "gcp-service-account": _gcp_sa,
    "azure-storage-key": _azure_conn,
    "azure-client-secret": _azure_secret,
    "azure-sas": _azure_sas,
    "github-token": _github,
    "github-pat": _github_pat,
    "gitlab-token": _gitlab,
    "slack-token": _slack,
    "slack-webhook": _slack_hook,
    "npm-token": _npm,
    "pypi-token": _pypi,
    "anthropic-key": _anthropic,
    "openai-key": _openai,
    "openai-legacy-key": _openai_legacy,
    "huggingface-token": _hf,
    "stripe-key": _stripe,
    "sendgrid-key": _sendgrid,
    "twilio-key": _twilio,
    "mailchimp-key": _mailchimp,
    "telegram-token": _telegram,
    "jwt": _jwt,
    "private-key": _pem,
    "url-credentials": _url_creds,
    "bearer-header": _bearer,
    "basic-header": _basic,
    "curl-user": _curl_user,
    "password-assignment": _password_kw,
    "api-key-assignment": _api_key_kw,
    "secret-env": _secret_env,
    "env-word-password": _env_word_password,
    "high-entropy-assignment": _high_entropy,
}


def corpus(per_kind: int = 50, seed: int = 0) -> list[tuple[str, str, str]]:
    """`per_kind` samples of every kind: (kind, text, secret)."""
    rng = random.Random(seed)
    out = []
    for kind, gen in GENERATORS.items():
        for _ in range(per_kind):
            text, secret = gen(rng)
            out.append((kind, text, secret))
    return out
