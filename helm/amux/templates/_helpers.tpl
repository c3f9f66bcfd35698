{{/* Names, labels and the config file the chart renders. */}}

{{- define "amux.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "amux.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "amux.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "amux.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "amux.selectorLabels" -}}
app.kubernetes.io/name: {{ include "amux.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "amux.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "amux.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "amux.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "amux.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "amux.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* Where the chart mounts things. */}}
{{- define "amux.configPath" -}}/etc/amux/config/amux.yaml{{- end }}
{{- define "amux.keysDir" -}}/etc/amux/keys{{- end }}

{{/* The config file: the user's content plus the settings the chart manages. */}}
{{- define "amux.config" -}}
{{- $c := deepCopy .Values.config.content }}
{{- $lc := .Values.lifecycle }}
{{- $_ := set $c "lifecycle" (dict "shutdown_delay_secs" $lc.shutdownDelaySeconds "drain_timeout_secs" $lc.drainTimeoutSeconds "watch_interval_secs" $lc.watchIntervalSeconds) }}
{{- if .Values.virtualKeys.existingSecret }}
{{- $_ := set $c "keys_file" (printf "%s/%s" (include "amux.keysDir" .) .Values.virtualKeys.key) }}
{{- end }}
{{- if .Values.redis.enabled }}
{{- $_ := set $c "redis" (dict "url" "${REDIS_URL}" "on_failure" .Values.redis.onFailure) }}
{{- end }}
{{- if .Values.admin.existingSecret }}
{{- $_ := set $c "admin" (dict "key" "${AMUX_ADMIN_KEY}") }}
{{- end }}
{{- if or .Values.metrics.separatePort .Values.metrics.existingSecret }}
{{- $m := deepCopy (default (dict) (get $c "metrics")) }}
{{- if .Values.metrics.separatePort }}
{{- $_ := set $m "listen" (printf "0.0.0.0:%d" (int .Values.metrics.port)) }}
{{- end }}
{{- if .Values.metrics.existingSecret }}
{{- $_ := set $m "key" "${AMUX_METRICS_KEY}" }}
{{- end }}
{{- $_ := set $c "metrics" $m }}
{{- end }}
{{- toYaml $c }}
{{- end }}

{{- define "amux.configMapName" -}}
{{- default (include "amux.fullname" .) .Values.config.existingConfigMap }}
{{- end }}

{{/* The port Prometheus scrapes. */}}
{{- define "amux.metricsPortName" -}}
{{- if .Values.metrics.separatePort }}metrics{{ else }}http{{ end }}
{{- end }}

{{- define "amux.inFlightHPA" -}}
{{- $m := .Values.autoscaling.inFlight.mode }}
{{- if or (eq $m "on") (and (eq $m "auto") (or (.Capabilities.APIVersions.Has "custom.metrics.k8s.io/v1beta1") (.Capabilities.APIVersions.Has "custom.metrics.k8s.io/v1beta2"))) }}true{{ end }}
{{- end }}
