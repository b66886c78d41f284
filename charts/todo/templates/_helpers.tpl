{{/* The release's base name, at most 63 characters with a component suffix added. */}}
{{- define "todo.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "todo.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "name" "tasks"). */}}
{{- define "todo.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* The image of one component: its own `image` block over the chart's. */}}
{{- define "todo.image" -}}
{{- $image := merge (deepCopy (.component.image | default dict)) .root.Values.image -}}
{{- printf "%s:%s" $image.repository ($image.tag | default .root.Chart.AppVersion) -}}
{{- end -}}

{{- define "todo.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "todo.fullname" .)) -}}
{{- end -}}

{{- define "todo.databaseSecretName" -}}
{{- .Values.database.existingSecret | default (printf "%s-database" (include "todo.fullname" .)) -}}
{{- end -}}

{{/* A secret value: the one given, else the one already in the cluster, else a new one. */}}
{{- define "todo.keptSecret" -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace .secret -}}
{{- if .value -}}
{{- .value | b64enc -}}
{{- else if and $existing (hasKey $existing.data .key) -}}
{{- index $existing.data .key -}}
{{- else -}}
{{- .generated | b64enc -}}
{{- end -}}
{{- end -}}
