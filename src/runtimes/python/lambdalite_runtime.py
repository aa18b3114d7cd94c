# lambdalite's Python runtime client (started by /var/runtime/bootstrap.py). It behaves like AWS's
# (aws/aws-lambda-python-runtime-interface-client): handler "dir/sub/module.function", the same
# context object, errors as {errorMessage, errorType, requestId, stackTrace}, Runtime.* fault types,
# and `logging` records as "[LEVEL]\t<ISO time>\t<request id>\t<message>" (or AWS's JSON records).
#
# Standard library only, and careful about imports: this file is on every cold start, and on this
# kind of host `import socket, json, logging` alone costs more than the interpreter's own start. So
# the Runtime API is spoken over a raw _socket, JSON goes through the C accelerator _json directly,
# `logging` is configured by an import hook only if and when the function imports it, and even `os`
# (~1.5 ms with its path and collections modules) is left to functions that use it: the environment
# is read and written through posix.environ, the very dict os.environ wraps.

import posix
import sys
import time
import _socket

try:
    import _json
except ImportError:  # pragma: no cover - CPython always has it
    _json = None

_request_id = None


# ---- environment (os.environ without importing os) -----------------------------------------------

_environ = posix.environ  # os.environ._data: bytes keys and values, filesystem encoding


def _getenv(key, default=None):
    value = _environ.get(key.encode("utf-8", "surrogateescape"))
    return default if value is None else value.decode("utf-8", "surrogateescape")


def _setenv(key, value):
    # What os.environ[key] = value does.
    k = key.encode("utf-8", "surrogateescape")
    v = value.encode("utf-8", "surrogateescape")
    posix.putenv(k, v)
    _environ[k] = v


def _unsetenv(key):
    # What os.environ.pop(key, None) does.
    k = key.encode("utf-8", "surrogateescape")
    if k in _environ:
        posix.unsetenv(k)
        del _environ[k]


# ---- JSON ----------------------------------------------------------------------------------------

class _ScanContext(object):
    # The attributes _json.make_scanner reads (json.decoder.JSONDecoder's defaults).
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}.__getitem__
    memo = {}


def _default(o):
    # AWS's runtime serialises Decimal (from boto3's DynamoDB types) as a number.
    if type(o).__name__ == "Decimal":
        return float(o)
    raise TypeError("Object of type %s is not JSON serializable" % type(o).__name__)


if _json is not None:
    _scan = _json.make_scanner(_ScanContext())
    _encode = _json.make_encoder(None, _default, _json.encode_basestring_ascii, None, ": ", ", ", False, False, True)
    _WS = " \t\n\r"

    def json_loads(text):
        i, n = 0, len(text)
        while i < n and text[i] in _WS:
            i += 1
        try:
            obj, end = _scan(text, i)
        except StopIteration:
            import json
            return json.loads(text)  # for the proper error message
        while end < n and text[end] in _WS:
            end += 1
        if end != n:
            import json
            return json.loads(text)
        return obj

    def json_dumps(obj):
        if isinstance(obj, str):
            return _json.encode_basestring_ascii(obj)
        return "".join(_encode(obj, 0))
else:  # pragma: no cover
    import json

    def json_loads(text):
        return json.loads(text)

    def json_dumps(obj):
        return json.dumps(obj, default=_default)


# ---- output --------------------------------------------------------------------------------------

def _write(text):
    data = text.encode("utf-8", "replace")
    while data:
        n = posix.write(1, data)
        data = data[n:]


def _iso_now():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)


# Advanced logging controls, as AWS's runtime client applies them: AWS_LAMBDA_LOG_FORMAT=JSON makes
# every `logging` record one JSON object, and AWS_LAMBDA_LOG_LEVEL sets the root logger's level.
_JSON_FORMAT = _getenv("AWS_LAMBDA_LOG_FORMAT") == "JSON"
_LEVEL_NAMES = {"TRACE": "DEBUG", "DEBUG": "DEBUG", "INFO": "INFO", "WARN": "WARNING", "ERROR": "ERROR", "FATAL": "CRITICAL"}
_AWS_LEVELS = {"WARNING": "WARN", "CRITICAL": "FATAL"}


def _json_record(record):
    out = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
        "level": _AWS_LEVELS.get(record.levelname, record.levelname),
        "message": record.getMessage(),
        "logger": record.name,
    }
    if record.exc_info and record.exc_info[1] is not None:
        exc = record.exc_info[1]
        out["errorType"] = type(exc).__name__
        out["errorMessage"] = str(exc)
        out["stackTrace"] = _user_frames(exc.__traceback__)
    out["requestId"] = _request_id or ""
    return json_dumps(out) + "\n"


def _configure_logging(logging):
    class LambdaLoggerHandler(logging.Handler):
        def emit(self, record):
            try:
                _write(_json_record(record) if _JSON_FORMAT else self.format(record))
            except Exception:
                self.handleError(record)

    class LambdaLoggerFilter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = _request_id or ""
            return True

    handler = LambdaLoggerHandler()
    handler.setFormatter(
        logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n", "%Y-%m-%dT%H:%M:%S")
    )
    handler.addFilter(LambdaLoggerFilter())
    logging.Formatter.converter = time.gmtime
    root = logging.getLogger()
    root.addHandler(handler)
    level = _LEVEL_NAMES.get((_getenv("AWS_LAMBDA_LOG_LEVEL") or "").upper())
    if level is not None:
        root.setLevel(level)


class _LoggingHook(object):
    """Configures `logging` the moment the function imports it (AWS does it eagerly at start)."""

    def find_spec(self, name, path=None, target=None):
        if name != "logging":
            return None
        sys.meta_path.remove(self)
        import importlib.util
        spec = importlib.util.find_spec("logging")
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original = loader.exec_module

        def exec_module(module):
            original(module)
            _configure_logging(module)

        loader.exec_module = exec_module
        return spec


def _install_logging():
    if "logging" in sys.modules:
        _configure_logging(sys.modules["logging"])
    else:
        sys.meta_path.insert(0, _LoggingHook())


# ---- Runtime API ---------------------------------------------------------------------------------

class RuntimeApi(object):
    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.host = address
        self.addr = (host, int(port))
        self.sock = None
        self.buf = b""

    def _connect(self):
        s = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
        s.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        s.connect(self.addr)
        self.sock = s
        self.buf = b""

    def _encode(self, method, path, headers=(), body=None):
        head = "%s /2018-06-01/runtime/%s HTTP/1.1\r\nHost: %s\r\n" % (method, path, self.host)
        for k, v in headers:
            head += "%s: %s\r\n" % (k, v)
        if body is not None:
            head += "Content-Length: %d\r\n" % len(body)
        data = (head + "\r\n").encode("latin-1")
        return data + body if body is not None else data

    def _read_response(self):
        buf = self.buf
        while True:
            end = buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            chunk = self.sock.recv(65536)
            if not chunk:
                self.sock = None
                raise ConnectionError("Runtime API closed the connection")
            buf += chunk
        lines = buf[:end].decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        hdrs = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        length = int(hdrs.get("content-length", "0"))
        rest = buf[end + 4:]
        while len(rest) < length:
            chunk = self.sock.recv(max(65536, length - len(rest)))
            if not chunk:
                self.sock = None
                raise ConnectionError("Runtime API closed the connection")
            rest += chunk
        self.buf = rest[length:]
        return status, hdrs, rest[:length]

    def request(self, method, path, headers=(), body=None):
        if self.sock is None:
            self._connect()
        self.sock.sendall(self._encode(method, path, headers, body))
        return self._read_response()

    @staticmethod
    def _check(path, status, resp):
        # 413 for an oversized response: the platform has already answered the invoke.
        if status != 202 and status != 413:
            raise RuntimeError("Runtime API %s answered %d: %s" % (path, status, resp.decode("utf-8", "replace")))

    def post(self, path, body, headers=()):
        status, _, resp = self.request("POST", path, (("Content-Type", "application/json"),) + tuple(headers), body)
        self._check(path, status, resp)

    def post_then_next(self, path, body, headers=()):
        """Posts a result with the next poll pipelined right behind it (saves a round trip)."""
        if self.sock is None:
            self._connect()
        post = self._encode("POST", path, (("Content-Type", "application/json"),) + tuple(headers), body)
        self.sock.sendall(post + self._encode("GET", "invocation/next"))
        status, _, resp = self._read_response()
        self._check(path, status, resp)
        return self._read_response()

    @staticmethod
    def error_request(error_result):
        return (
            json_dumps(error_result).encode("utf-8"),
            (("Lambda-Runtime-Function-Error-Type", error_result["errorType"]),),
        )

    def post_error(self, path, error_result):
        body, headers = self.error_request(error_result)
        self.post(path, body, headers)


# ---- faults and errors (AWS's bootstrap.py) ------------------------------------------------------

class FaultException(Exception):
    MARSHAL_ERROR = "Runtime.MarshalError"
    UNMARSHAL_ERROR = "Runtime.UnmarshalError"
    USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
    BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
    MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"

    def __init__(self, exception_type, msg, trace=None):
        Exception.__init__(self, msg)
        self.msg = msg
        self.exception_type = exception_type
        self.trace = trace


def _user_frames(tb):
    import os
    import traceback
    frames = traceback.extract_tb(tb)
    here = os.path.dirname(os.path.abspath(__file__))
    # Drop this client's own frames, as AWS's stack traces start at the user's code.
    while frames and os.path.dirname(os.path.abspath(frames[0].filename)) == here:
        frames = frames[1:]
    return traceback.format_list(frames)


def make_error(exc, request_id):
    if isinstance(exc, FaultException):
        return {
            "errorMessage": exc.msg,
            "errorType": exc.exception_type,
            "requestId": request_id or "",
            "stackTrace": exc.trace if exc.trace is not None else [],
        }
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id or "",
        "stackTrace": _user_frames(exc.__traceback__),
    }


def log_error(error_result):
    if _JSON_FORMAT:
        # AWS's runtime writes unhandled errors as one record with a `log_level` member.
        record = {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "log_level": "ERROR"}
        record.update(error_result)
        _write(json_dumps(record) + "\n")
        return
    desc = "[ERROR]"
    if error_result.get("errorType"):
        desc += " " + error_result["errorType"]
    if error_result.get("errorMessage"):
        if error_result.get("errorType"):
            desc += ":"
        desc += " " + error_result["errorMessage"]
    lines = [desc]
    trace = error_result.get("stackTrace")
    if trace is not None:
        lines.append("Traceback (most recent call last):")
        for element in trace:
            lines.extend(element.splitlines() if element else [""])
    _write("\n".join(lines) + "\n")


def get_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultException(FaultException.MALFORMED_HANDLER_NAME, "Bad handler '%s': %s" % (handler, e))
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException(
                FaultException.BUILT_IN_MODULE_CONFLICT, "Cannot use built-in module %s as a handler module" % modname
            )
        # importlib.import_module, as AWS's client: an exception raised while the module runs
        # carries importlib's frames in its stackTrace, as on AWS.
        import importlib
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultException(FaultException.IMPORT_MODULE_ERROR, "Unable to import module '%s': %s" % (modname, e))
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultException(FaultException.USER_CODE_SYNTAX_ERROR, "Syntax error in module '%s': %s" % (modname, e), trace)
    try:
        return getattr(module, fname)
    except AttributeError:
        fault = FaultException(FaultException.HANDLER_NOT_FOUND, "Handler '%s' missing on module '%s'" % (fname, modname))

        def fault_handler(event, context):
            raise fault

        return fault_handler


# ---- context -------------------------------------------------------------------------------------

class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __init__(self):
        self.cognito_identity_id = None
        self.cognito_identity_pool_id = None


class Client(object):
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name"]


class ClientContext(object):
    __slots__ = ["custom", "env", "client"]


def _obj_from_dict(cls, d):
    if d is None:
        return None
    obj = cls()
    for slot in cls.__slots__:
        setattr(obj, slot, d.get(slot))
    return obj


class LambdaContext(object):
    def __init__(self, request_id, client_context, cognito_identity, deadline_ms, invoked_function_arn):
        self.aws_request_id = request_id
        self.log_group_name = _getenv("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = _getenv("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = _getenv("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = _getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = _getenv("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.client_context = _obj_from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _obj_from_dict(Client, self.client_context.client)
        self.identity = CognitoIdentity()
        if cognito_identity is not None:
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        delta = self._deadline_ms - int(time.time() * 1000)
        return delta if delta > 0 else 0

    def log(self, msg):
        _write(str(msg))

    def __repr__(self):
        return (
            "LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,function_name=%s,"
            "memory_limit_in_mb=%s,function_version=%s,invoked_function_arn=%s,client_context=%s,identity=%s])"
            % (
                self.aws_request_id,
                self.log_group_name,
                self.log_stream_name,
                self.function_name,
                self.memory_limit_in_mb,
                self.function_version,
                self.invoked_function_arn,
                self.client_context,
                self.identity,
            )
        )


# ---- main loop -----------------------------------------------------------------------------------

def handle(api, handler, headers, body):
    """Runs one invocation; returns (path, body, headers) of the answer to post."""
    global _request_id
    request_id = headers.get("lambda-runtime-aws-request-id")
    _request_id = request_id
    trace_id = headers.get("lambda-runtime-trace-id")
    if trace_id is not None:
        _setenv("_X_AMZN_TRACE_ID", trace_id)
    else:
        _unsetenv("_X_AMZN_TRACE_ID")
    try:
        client_context = headers.get("lambda-runtime-client-context")
        cognito = headers.get("lambda-runtime-cognito-identity")
        context = LambdaContext(
            request_id,
            json_loads(client_context) if client_context else None,
            json_loads(cognito) if cognito else None,
            int(headers.get("lambda-runtime-deadline-ms", "0")),
            headers.get("lambda-runtime-invoked-function-arn"),
        )
        try:
            event = json_loads(body.decode("utf-8")) if body else None
        except Exception as e:
            raise FaultException(FaultException.UNMARSHAL_ERROR, "Unable to unmarshal input: %s" % e)
        result = handler(event, context)
        try:
            payload = json_dumps(result).encode("utf-8")
        except Exception as e:
            raise FaultException(FaultException.MARSHAL_ERROR, "Unable to marshal response: %s" % e)
    except Exception as e:
        error_result = make_error(e, request_id)
        log_error(error_result)
        answer = ("invocation/%s/error" % request_id,) + RuntimeApi.error_request(error_result)
    else:
        answer = ("invocation/%s/response" % request_id, payload, ())
    _request_id = None
    return answer


def main():
    # sys.path as AWS builds it: task root first, then PYTHONPATH (layers, then /var/runtime).
    here = __file__.rpartition("/")[0]
    first = sys.path[0] if sys.path else None
    if first is not None and not (first.startswith("/") and here.startswith("/")):
        import os  # a relative path: only os.path can compare it

        here = os.path.dirname(os.path.abspath(__file__))
        first = os.path.abspath(first or ".")
    if first is not None and first.rstrip("/") == here.rstrip("/"):
        del sys.path[0]
    sys.path.insert(0, _getenv("LAMBDA_TASK_ROOT", "/var/task"))
    # Started with -S (the host's site-packages are no part of a Lambda runtime); keep the
    # conveniences site would have added.
    import builtins
    if not hasattr(builtins, "exit"):
        builtins.exit = builtins.quit = sys.exit

    api = RuntimeApi(_getenv("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"))
    try:
        # Connect now: the server accepts while the handler is imported (GET next still goes out
        # only once init is done).
        api._connect()
    except OSError:
        api.sock = None  # request() retries and reports the failure
    _install_logging()
    try:
        handler = get_handler(_getenv("_HANDLER", ""))
    except Exception as e:
        error_result = make_error(e, None)
        log_error(error_result)
        api.post_error("init/error", error_result)
        sys.exit(1)

    status, headers, body = api.request("GET", "invocation/next")
    while True:
        if status != 200:
            raise RuntimeError("Runtime API invocation/next answered %d: %r" % (status, body))
        path, payload, extra = handle(api, handler, headers, body)
        status, headers, body = api.post_then_next(path, payload, extra)
