"""Schemas of the custom resources the chart renders (ServiceMonitor, PrometheusRule, HTTPRoute).

kubernetes-validate ships only the built-in kinds and the CRDs' own schemas cannot be fetched
here, so these cover the fields the chart uses, with their types and required fields (from the
prometheus-operator and Gateway API CRD references).
"""

LABELS = {"type": "object", "additionalProperties": {"type": "string"}}
METADATA = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string", "minLength": 1}, "labels": LABELS, "annotations": LABELS},
}
SELECTOR = {
    "type": "object",
    "properties": {"matchLabels": LABELS},
    "additionalProperties": False,
}

SCHEMAS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "metadata": METADATA,
            "spec": {
                "type": "object",
                "additionalProperties": False,
                "required": ["selector", "endpoints"],
                "properties": {
                    "selector": SELECTOR,
                    "endpoints": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "port": {"type": "string"},
                                "path": {"type": "string", "pattern": "^/"},
                                "interval": {"type": "string", "pattern": "^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"},
                                # SafeAuthorization: a credential from a Secret key.
                                "authorization": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "properties": {
                                        "type": {"type": "string"},
                                        "credentials": {
                                            "type": "object",
                                            "additionalProperties": False,
                                            "required": ["key"],
                                            "properties": {
                                                "name": {"type": "string"},
                                                "key": {"type": "string"},
                                                "optional": {"type": "boolean"},
                                            },
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
    ("monitoring.coreos.com/v1", "PrometheusRule"): {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "metadata": METADATA,
            "spec": {
                "type": "object",
                "additionalProperties": False,
                "required": ["groups"],
                "properties": {
                    "groups": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["name", "rules"],
                            "properties": {
                                "name": {"type": "string", "minLength": 1},
                                "interval": {"type": "string"},
                                "rules": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "additionalProperties": False,
                                        "required": ["expr"],
                                        "oneOf": [{"required": ["record"]}, {"required": ["alert"]}],
                                        "properties": {
                                            "record": {"type": "string"},
                                            "alert": {"type": "string"},
                                            "expr": {"type": "string", "minLength": 1},
                                            "for": {"type": "string"},
                                            "labels": LABELS,
                                            "annotations": LABELS,
                                        },
                                    },
                                },
                            },
                        },
                    }
                },
            },
        },
    },
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "metadata": METADATA,
            "spec": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "parentRefs": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["name"],
                            "additionalProperties": False,
                            "properties": {
                                "group": {"type": "string"},
                                "kind": {"type": "string"},
                                "name": {"type": "string", "minLength": 1},
                                "namespace": {"type": "string"},
                                "sectionName": {"type": "string"},
                                "port": {"type": "integer"},
                            },
                        },
                    },
                    "hostnames": {"type": "array", "items": {"type": "string"}},
                    "rules": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "matches": {"type": "array"},
                                "backendRefs": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["name"],
                                        "properties": {"name": {"type": "string"}, "port": {"type": "integer"}},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}
