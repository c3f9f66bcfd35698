"""Which request fields each provider accepts, read from the official Python SDKs' own request types.

The mock upstreams refuse what the real APIs refuse, unknown fields included, so that a field amux
forwards and the real provider would reject fails the test. The accepted fields are not written
down here: they are read at import time from the SDKs pinned in scripts/test.sh:

- Anthropic Messages: ``anthropic.types.message_create_params`` (the ``MessageCreateParams*``
  TypedDicts of ``client.messages.create``), or its beta twin
  (``anthropic.types.beta.message_create_params``, ``client.beta.messages.create``) when the call
  is a beta call (``?beta=true`` or an ``anthropic-beta`` header). Every nested TypedDict
  (messages, content blocks, tools, tool_choice, thinking...) is walked too; a TypedDict the SDK
  marks ``extra: allow`` (a tool's input_schema) and ``Dict[str, object]`` values (metadata, JSON
  schemas) are open.
- OpenAI Chat Completions: ``openai.types.chat.completion_create_params`` (``chat.completions.create``).
- OpenAI Responses: ``openai.types.responses.response_create_params`` (``responses.create``).
- Gemini: google-genai's pydantic types for the REST body of ``generateContent``: ``Content``,
  ``Part``, ``Tool``, ``ToolConfig``, ``SafetySetting`` and ``GenerationConfig`` (the REST form of
  ``GenerateContentConfig``'s sampling part), camelCase as on the wire (snake_case is accepted too,
  as the API's proto JSON parser does), less the fields the SDK's own Gemini Developer API
  converters (``google.genai.models._*_to_mldev``) refuse as "only supported in ... Enterprise
  Agent Platform mode". Function ``parameters`` are a ``Schema`` message in the API (unknown
  JSON-schema keywords such as ``$schema`` are refused there); ``parametersJsonSchema`` is open.

Unions of TypedDicts are told apart the way the APIs do: by a literal discriminator (``type``,
``role``) when every member has one; otherwise a value is accepted when any member accepts it.

``check(dialect, body, beta=False, lenient=False)`` returns the first problem as ``(path, field)``
(path: the list of keys/indexes of the object that holds the unknown field) or None; each mock
puts it in its provider's error shape.
"""

from __future__ import annotations

import ast
import functools
import inspect
import re
import types as pytypes
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import typing_extensions as te

# -- A small schema tree: what a JSON value may contain.


class Open:
    """Any JSON value (a JSON schema, metadata, free-form args)."""


OPEN = Open()


class Scalar:
    """A string, number, boolean or enum value: not checked here."""


SCALAR = Scalar()


class Obj:
    def __init__(self, name: str, fields: dict[str, Any] | None = None, extra: bool = False):
        self.name = name
        self.fields: dict[str, Any] = fields or {}  # wire name -> node (filled lazily for recursion)
        self.required: set[str] = set()
        self.extra = extra


class ListOf:
    def __init__(self, item: Any):
        self.item = item


class MapOf:
    def __init__(self, value: Any):
        self.value = value


class OneOf:
    def __init__(self, members: list[Any]):
        self.members = members


class Lit:
    def __init__(self, values: tuple[Any, ...]):
        self.values = values


Problem = tuple[list[Any], str]  # (path to the object, the unknown field)


# -- TypedDicts (anthropic, openai)


def _strip(tp: Any) -> Any:
    """Remove Required/NotRequired/Annotated/Optional wrappers that do not change the shape."""
    while True:
        origin = typing.get_origin(tp)
        if origin in (te.Required, te.NotRequired, typing.Required, typing.NotRequired):
            tp = typing.get_args(tp)[0]
        elif origin is te.Annotated or origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        else:
            return tp


def _is_typeddict(tp: Any) -> bool:
    return isinstance(tp, type) and te.is_typeddict(tp)


@functools.lru_cache(maxsize=None)
def _typeddict_node(cls: type) -> Obj:
    config = getattr(cls, "__pydantic_config__", None) or {}
    node = Obj(cls.__name__, extra=config.get("extra") == "allow")
    _TD_CACHE[cls] = node
    hints = typing.get_type_hints(cls, include_extras=True)
    for name, tp in hints.items():
        node.fields[name] = tp  # resolved lazily in _node_of
        if cls.__required_keys__ and name in cls.__required_keys__:
            node.required.add(name)
    return node


_TD_CACHE: dict[type, Obj] = {}


def _node_of(tp: Any) -> Any:
    tp = _strip(tp)
    if tp is Any or tp is object:
        return OPEN
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union or origin is pytypes.UnionType:
        members = [_node_of(a) for a in args if a is not type(None)]
        # A union with a free-form member (object, Dict[str, object]) accepts any value.
        if any(m is OPEN or (isinstance(m, MapOf) and m.value is OPEN) for m in members):
            return OPEN
        return OneOf(members) if len(members) != 1 else members[0]
    if origin in (typing.Literal, te.Literal):
        return Lit(args)
    if origin in (list, set, frozenset, tuple) or (
        isinstance(origin, type) and origin is not str and issubclass(origin, (Iterable, Sequence)) and not issubclass(origin, Mapping)
    ):
        return ListOf(_node_of(args[0]) if args else OPEN)
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        return MapOf(_node_of(args[1]) if len(args) == 2 else OPEN)
    if _is_typeddict(tp):
        return _typeddict_node(tp)
    if isinstance(tp, type) and hasattr(tp, "model_fields"):
        return _pydantic_node(tp)
    if isinstance(tp, type) and issubclass(tp, (dict, Mapping)):
        return OPEN
    if getattr(tp, "__name__", "") == "SequenceNotStr" or origin is not None and getattr(origin, "__name__", "") == "SequenceNotStr":
        return ListOf(OPEN)
    return SCALAR  # str, int, float, bool, enums, bytes


def _field(node: Obj, name: str) -> Any:
    v = node.fields[name]
    if not isinstance(v, (Open, Scalar, Obj, ListOf, MapOf, OneOf, Lit)):
        v = node.fields[name] = _node_of(v)
    return v


# -- pydantic models (google-genai)


def _camel(s: str) -> str:
    head, *rest = s.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


@functools.lru_cache(maxsize=None)
def _mldev_refused() -> dict[str, set[str]]:
    """{TypeName: {snake field}} that google-genai's Gemini Developer API converters refuse."""
    from google.genai import models

    tree = ast.parse(inspect.getsource(models))
    out: dict[str, set[str]] = {}
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef):
            continue
        m = re.fullmatch(r"_(\w+)_to_mldev", fn.name)
        if not m:
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.Raise) and node.exc is not None:
                text = ast.unparse(node.exc)
                f = re.search(r"'(\w+) parameter is (?:only supported|not supported)", text)
                if f:
                    out.setdefault(m.group(1), set()).add(f.group(1))
    return out


_PD_CACHE: dict[type, Obj] = {}


def _pydantic_node(cls: type) -> Obj:
    if cls in _PD_CACHE:
        return _PD_CACHE[cls]
    node = Obj(cls.__name__)
    _PD_CACHE[cls] = node
    refused = set(_mldev_refused().get(cls.__name__, set()))
    if cls.__name__ == "GenerationConfig":
        # The SDK converts GenerateContentConfig's sampling fields into generationConfig.
        refused |= _mldev_refused().get("GenerateContentConfig", set())
    for name, info in cls.model_fields.items():
        if name in refused:
            continue
        node.fields[_camel(name)] = info.annotation
    return node


# -- Walking a request


def _matches(value: Any, node: Any) -> bool:
    return _walk(value, node, []) is None


def _discriminate(value: dict[str, Any], members: list[Any]) -> tuple[list[Any], str | None]:
    """The members a dict can be, by a literal field every object member has (type, role)."""
    objs = [m for m in members if isinstance(m, Obj)]
    if not objs:
        return members, None
    for key in ("type", "role"):
        lits = []
        for o in objs:
            if key not in o.fields:
                break
            f = _field(o, key)
            if not isinstance(f, Lit):
                break
            lits.append(f)
        else:
            if key in value:
                chosen = [o for o, lit in zip(objs, lits) if value[key] in lit.values]
            else:
                chosen = [o for o in objs if key not in o.required]
            return chosen, key
    return objs, None


def _walk(value: Any, node: Any, path: list[Any]) -> Problem | None:
    if node is OPEN or node is SCALAR or isinstance(node, Lit) or value is None:
        return None
    if isinstance(node, ListOf):
        if isinstance(value, list):
            for i, v in enumerate(value):
                p = _walk(v, node.item, path + [i])
                if p:
                    return p
        return None
    if isinstance(node, MapOf):
        if isinstance(value, dict):
            for k, v in value.items():
                p = _walk(v, node.value, path + [k])
                if p:
                    return p
        return None
    if isinstance(node, OneOf):
        if isinstance(value, dict):
            members, key = _discriminate(value, node.members)
            if not members:
                return (path, f"{key}={value.get(key)!r}") if key else None
            first = None
            for m in members:
                p = _walk(value, m, path)
                if p is None:
                    return None
                first = first or p
            return first
        if isinstance(value, list):
            lists = [m for m in node.members if isinstance(m, ListOf)]
            first = None
            for m in lists:
                p = _walk(value, m, path)
                if p is None:
                    return None
                first = first or p
            return first
        return None
    if isinstance(node, Obj):
        if not isinstance(value, dict):
            return None
        for k, v in value.items():
            if k not in node.fields:
                if node.extra:
                    continue
                return (path, k)
            p = _walk(v, _field(node, k), path + [k])
            if p:
                return p
        return None
    return None


# -- Per dialect roots


@functools.lru_cache(maxsize=None)
def _roots() -> dict[str, Any]:
    from anthropic.types import message_create_params as anth
    from anthropic.types.beta import message_create_params as anth_beta
    from openai.types.chat import completion_create_params as chat
    from openai.types.responses import response_create_params as resp

    def params(mod: Any, *names: str, drop: tuple[str, ...] = ()) -> Obj:
        node = Obj(mod.__name__)
        for n in names:
            td = _typeddict_node(getattr(mod, n))
            for k in td.fields:
                if k not in drop:
                    node.fields[k] = _field(td, k)
        return node

    both = ("MessageCreateParamsNonStreaming", "MessageCreateParamsStreaming")
    return {
        "anthropic": params(anth, *both),
        # `betas` is the anthropic-beta header, not a body field.
        "anthropic-beta": params(anth_beta, *both, drop=("betas",)),
        "openai": params(chat, "CompletionCreateParamsNonStreaming", "CompletionCreateParamsStreaming"),
        "responses": params(resp, "ResponseCreateParamsNonStreaming", "ResponseCreateParamsStreaming"),
        "gemini": _gemini_root(),
    }


def _gemini_root() -> Obj:
    from google.genai import types as g

    node = Obj("GenerateContentRequest")
    node.fields = {
        "model": OPEN,
        "contents": ListOf(_pydantic_node(g.Content)),
        "systemInstruction": _pydantic_node(g.Content),
        "tools": ListOf(_pydantic_node(g.Tool)),
        "toolConfig": _pydantic_node(g.ToolConfig),
        "safetySettings": ListOf(_pydantic_node(g.SafetySetting)),
        "generationConfig": _pydantic_node(g.GenerationConfig),
        "cachedContent": OPEN,
    }
    # Where GenerateContentConfig's mldev converter puts other request-level fields (labels,
    # serviceTier, ...): on the request itself.
    for name in _mldev_parent_fields():
        node.fields.setdefault(name, OPEN)
    fd = _pydantic_node(g.FunctionDeclaration)
    fd.fields["parametersJsonSchema"] = OPEN
    fd.fields["responseJsonSchema"] = OPEN
    gc = _pydantic_node(g.GenerationConfig)
    gc.fields["responseJsonSchema"] = OPEN
    return node


@functools.lru_cache(maxsize=None)
def _mldev_parent_fields() -> tuple[str, ...]:
    from google.genai import models

    tree = ast.parse(inspect.getsource(models))
    names: list[str] = []
    for fn in tree.body:
        if isinstance(fn, ast.FunctionDef) and fn.name == "_GenerateContentConfig_to_mldev":
            for node in ast.walk(fn):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "id", "") == "setv"
                    and len(node.args) >= 2
                    and getattr(node.args[0], "id", "") == "parent_object"
                    and isinstance(node.args[1], ast.List)
                    and node.args[1].elts
                    and isinstance(node.args[1].elts[0], ast.Constant)
                ):
                    names.append(node.args[1].elts[0].value)
    return tuple(names)


def _normalize_gemini(value: Any, node: Any) -> Any:
    """Proto JSON takes snake_case too: rename keys that name a known field in snake_case."""
    if isinstance(node, Obj) and isinstance(value, dict):
        out = {}
        for k, v in value.items():
            ck = _camel(k) if k not in node.fields and _camel(k) in node.fields else k
            out[ck] = _normalize_gemini(v, _field(node, ck)) if ck in node.fields else v
        return out
    if isinstance(node, ListOf) and isinstance(value, list):
        return [_normalize_gemini(v, node.item) for v in value]
    if isinstance(node, MapOf) and isinstance(value, dict):
        return {k: _normalize_gemini(v, node.value) for k, v in value.items()}
    return value


def check(dialect: str, body: Any, beta: bool = False) -> Problem | None:
    """The first field of `body` that the provider of `dialect` does not accept, or None.

    dialect: "anthropic", "openai" (Chat), "responses" or "gemini"; beta: an Anthropic beta call.
    """
    roots = _roots()
    root = roots["anthropic-beta" if dialect == "anthropic" and beta else dialect]
    if dialect == "gemini":
        body = _normalize_gemini(body, root)
    return _walk(body, root, [])


def field_names(dialect: str, beta: bool = False) -> list[str]:
    """The top-level request fields the provider accepts (for tests and docs)."""
    return sorted(_roots()["anthropic-beta" if dialect == "anthropic" and beta else dialect].fields)


def snake(s: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", s).lower()


def dotted(path: list[Any], field: str | None = None) -> str:
    """messages.3.name (Anthropic, and OpenAI Chat's nested errors)."""
    return ".".join(str(p) for p in path + ([field] if field else []))


def bracketed(path: list[Any], field: str | None = None, snake_case: bool = False) -> str:
    """input[1].metadata (Responses); tools[0].function_declarations[0] (Gemini, snake_case)."""
    out = ""
    for p in path + ([field] if field else []):
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + (snake(p) if snake_case else p)
    return out
