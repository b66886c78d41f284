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

{{/* The image of one component: its own `image` block over the chart's. Nobody publishes the
image, so there is no default repository to fall back on. */}}
{{- define "todo.image" -}}
{{- $image := merge (deepCopy (.component.image | default dict)) .root.Values.image -}}
{{- $repository := required "image.repository is required: the image built from this repository's Dockerfile, pushed where the cluster can pull it (e.g. --set image.repository=registry.example.com/todo)" $image.repository -}}
{{- printf "%s:%s" $repository ($image.tag | default .root.Chart.AppVersion) -}}
{{- end -}}

{{- define "todo.kafkaBootstrapServers" -}}
{{- required "kafka.bootstrapServers is required: host:port of the brokers' Kafka listener (e.g. --set kafka.bootstrapServers=redpanda.redpanda.svc.cluster.local:9093)" .Values.kafka.bootstrapServers -}}
{{- end -}}

{{- define "todo.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "todo.fullname" .)) -}}
{{- end -}}

{{- define "todo.databaseSecretName" -}}
{{- if not (or .Values.database.existingSecret .Values.database.url) -}}
{{- fail "a database is required: set database.url (e.g. postgresql://todo:PASSWORD@postgresql.todo.svc:5432/todo) or database.existingSecret (a Secret of yours holding the URL under database.existingSecretKey)" -}}
{{- end -}}
{{- .Values.database.existingSecret | default (printf "%s-database" (include "todo.fullname" .)) -}}
{{- end -}}

{{/* The Secrets the chart renders, for pods' checksum annotation: a changed value rolls them.
With every Secret named in values (existingSecret), nothing is rendered and nothing changes. */}}
{{- define "todo.secretsChecksum" -}}
{{- include (print .Template.BasePath "/secret.yaml") . | sha256sum -}}
{{- end -}}

{{/* KAFKA_SECURITY_PROTOCOL: TLS or not, SASL or not. */}}
{{- define "todo.kafkaProtocol" -}}
{{- $sasl := ne .Values.kafka.sasl.mechanism "" -}}
{{- if .Values.kafka.tls.enabled -}}
{{- ternary "SASL_SSL" "SSL" $sasl -}}
{{- else -}}
{{- ternary "SASL_PLAINTEXT" "PLAINTEXT" $sasl -}}
{{- end -}}
{{- end -}}

{{/* The application stops at start on a TLS or SASL setting its protocol does not use, so the
chart sets only those the protocol uses and refuses values that would be silently dropped. */}}
{{- define "todo.kafkaChecks" -}}
{{- $kafka := .Values.kafka -}}
{{- if not $kafka.tls.enabled -}}
{{- if $kafka.tls.caSecret.name -}}
{{- fail "kafka.tls.caSecret.name is set but kafka.tls.enabled is false: set kafka.tls.enabled=true, or clear the CA" -}}
{{- end -}}
{{- if $kafka.tls.clientCertSecret.name -}}
{{- fail "kafka.tls.clientCertSecret.name is set but kafka.tls.enabled is false: set kafka.tls.enabled=true, or clear the client certificate" -}}
{{- end -}}
{{- end -}}
{{- if $kafka.sasl.mechanism -}}
{{- $_ := required (printf "kafka.sasl.existingSecret is required with kafka.sasl.mechanism=%s: a Secret holding the user (key %q) and its password (key %q)" $kafka.sasl.mechanism $kafka.sasl.usernameKey $kafka.sasl.passwordKey) $kafka.sasl.existingSecret -}}
{{- else if $kafka.sasl.existingSecret -}}
{{- fail "kafka.sasl.existingSecret is set but kafka.sasl.mechanism is empty: set kafka.sasl.mechanism (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512), or clear the Secret" -}}
{{- end -}}
{{- end -}}

{{/* Kafka's security settings of a container (besides KAFKA_BOOTSTRAP_SERVERS): the files are
mounted by todo.kafkaVolumes and todo.kafkaVolumeMounts; the password is read from its file. */}}
{{- define "todo.kafkaEnv" -}}
{{- include "todo.kafkaChecks" . -}}
{{- $kafka := .Values.kafka }}
- name: KAFKA_SECURITY_PROTOCOL
  value: {{ include "todo.kafkaProtocol" . }}
{{- if $kafka.tls.enabled }}
{{- if $kafka.tls.caSecret.name }}
- name: KAFKA_SSL_CA_LOCATION
  value: /etc/todo/kafka/ca/ca.crt
{{- end }}
{{- if $kafka.tls.clientCertSecret.name }}
- name: KAFKA_SSL_CERTIFICATE_LOCATION
  value: /etc/todo/kafka/client/tls.crt
- name: KAFKA_SSL_KEY_LOCATION
  value: /etc/todo/kafka/client/tls.key
{{- end }}
{{- end }}
{{- if $kafka.sasl.mechanism }}
- name: KAFKA_SASL_MECHANISM
  value: {{ $kafka.sasl.mechanism }}
- name: KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ $kafka.sasl.existingSecret }}
      key: {{ $kafka.sasl.usernameKey | quote }}
- name: KAFKA_SASL_PASSWORD_FILE
  value: /etc/todo/kafka/sasl/password
{{- end }}
{{- end -}}

{{- define "todo.kafkaVolumeMounts" -}}
{{- $kafka := .Values.kafka }}
{{- if and $kafka.tls.enabled $kafka.tls.caSecret.name }}
- name: kafka-ca
  mountPath: /etc/todo/kafka/ca
  readOnly: true
{{- end }}
{{- if and $kafka.tls.enabled $kafka.tls.clientCertSecret.name }}
- name: kafka-client
  mountPath: /etc/todo/kafka/client
  readOnly: true
{{- end }}
{{- if $kafka.sasl.mechanism }}
- name: kafka-sasl
  mountPath: /etc/todo/kafka/sasl
  readOnly: true
{{- end }}
{{- end -}}

{{/* Only the keys needed are projected, under fixed file names (a CNPG CA Secret also holds the
CA's private key). Mode 288 is 0440, written in decimal so that every YAML parser reads the
same number: the pods' group (fsGroup) may read, nobody may write. */}}
{{- define "todo.kafkaVolumes" -}}
{{- $kafka := .Values.kafka }}
{{- if and $kafka.tls.enabled $kafka.tls.caSecret.name }}
- name: kafka-ca
  secret:
    secretName: {{ $kafka.tls.caSecret.name }}
    items:
      - {key: {{ $kafka.tls.caSecret.key | quote }}, path: ca.crt}
    defaultMode: 288
{{- end }}
{{- if and $kafka.tls.enabled $kafka.tls.clientCertSecret.name }}
- name: kafka-client
  secret:
    secretName: {{ $kafka.tls.clientCertSecret.name }}
    items:
      - {key: {{ $kafka.tls.clientCertSecret.certKey | quote }}, path: tls.crt}
      - {key: {{ $kafka.tls.clientCertSecret.keyKey | quote }}, path: tls.key}
    defaultMode: 288
{{- end }}
{{- if $kafka.sasl.mechanism }}
- name: kafka-sasl
  secret:
    secretName: {{ $kafka.sasl.existingSecret }}
    items:
      - {key: {{ $kafka.sasl.passwordKey | quote }}, path: password}
    defaultMode: 288
{{- end }}
{{- end -}}

{{/* DATABASE_URL, and with database.tls the server's certificate verified against the mounted CA
(asyncpg reads PGSSLMODE and PGSSLROOTCERT). */}}
{{- define "todo.databaseEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "todo.databaseSecretName" . }}
      key: {{ .Values.database.existingSecretKey | quote }}
{{- with .Values.database.tls }}
{{- if .enabled }}
{{- $_ := required "database.tls.caSecret.name is required with database.tls.enabled: a Secret holding the CA that signed the server's certificate (e.g. CloudNativePG's <cluster>-ca)" .caSecret.name }}
- name: PGSSLMODE
  value: verify-full
- name: PGSSLROOTCERT
  value: /etc/todo/database/ca/ca.crt
{{- end }}
{{- end }}
{{- end -}}

{{- define "todo.databaseVolumeMounts" -}}
{{- if .Values.database.tls.enabled }}
- name: database-ca
  mountPath: /etc/todo/database/ca
  readOnly: true
{{- end }}
{{- end -}}

{{- define "todo.databaseVolumes" -}}
{{- with .Values.database.tls }}
{{- if .enabled }}
- name: database-ca
  secret:
    secretName: {{ .caSecret.name }}
    items:
      - {key: {{ .caSecret.key | quote }}, path: ca.crt}
    defaultMode: 288
{{- end }}
{{- end }}
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
