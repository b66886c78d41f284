{{/*
The pod settings of one pod: the top level's (every pod's) with its own block's (`own`:
components.<name>, migrations or topics; an empty dict for the `helm test` pod). Lists are
concatenated (top level first), maps merged with the block's keys winning, and a scalar, an
affinity or a list of spread constraints the block sets replaces the top level's. As JSON, for
fromJson: (dict "root" $ "own" $component).
*/}}
{{- define "todo.podValues" -}}
{{- $v := .root.Values -}}
{{- $own := .own | default dict -}}
{{- $settings := dict
  "extraEnv" (concat ($v.extraEnv | default list) ($own.extraEnv | default list))
  "extraEnvFrom" (concat ($v.extraEnvFrom | default list) ($own.extraEnvFrom | default list))
  "extraVolumes" (concat ($v.extraVolumes | default list) ($own.extraVolumes | default list))
  "extraVolumeMounts" (concat ($v.extraVolumeMounts | default list) ($own.extraVolumeMounts | default list))
  "tolerations" (concat ($v.tolerations | default list) ($own.tolerations | default list))
  "podAnnotations" (merge (deepCopy ($own.podAnnotations | default dict)) ($v.podAnnotations | default dict))
  "podLabels" (merge (deepCopy ($own.podLabels | default dict)) ($v.podLabels | default dict))
  "nodeSelector" (merge (deepCopy ($own.nodeSelector | default dict)) ($v.nodeSelector | default dict))
-}}
{{- range $key := list "affinity" "topologySpreadConstraints" "priorityClassName" "terminationGracePeriodSeconds" "preStopSleepSeconds" -}}
{{- $_ := set $settings $key (ternary (index $own $key) (index $v $key) (hasKey $own $key)) -}}
{{- end -}}
{{- $settings | toJson -}}
{{- end -}}

{{/* The account the chart creates unless serviceAccount.create is false: the release's name. */}}
{{- define "todo.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "todo.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/*
The account of one component: its own when its `serviceAccount` block is set (created unless it
says create: false, named <fullname>-<name> unless it names one; the top level's annotations
merged under its own), else the top level's. As JSON: name, create, annotations, automount.
(dict "root" $ "name" "tasks" "own" $component)
*/}}
{{- define "todo.componentServiceAccount" -}}
{{- $shared := .root.Values.serviceAccount -}}
{{- $own := .own.serviceAccount | default dict -}}
{{- if $own -}}
{{- $create := ternary $own.create true (hasKey $own "create") -}}
{{- if and (not $create) (not $own.name) -}}
{{- fail (printf "components.%s.serviceAccount.name is required with create: false: the account of yours the component runs as" .name) -}}
{{- end -}}
{{- $automount := ternary $own.automountServiceAccountToken $shared.automountServiceAccountToken (hasKey $own "automountServiceAccountToken") -}}
{{- dict
  "name" ($own.name | default (printf "%s-%s" (include "todo.fullname" .root) .name))
  "create" $create
  "annotations" (merge (deepCopy ($own.annotations | default dict)) ($shared.annotations | default dict))
  "automount" $automount
  | toJson -}}
{{- else -}}
{{- dict
  "name" (include "todo.serviceAccountName" .root)
  "create" false
  "annotations" dict
  "automount" $shared.automountServiceAccountToken
  | toJson -}}
{{- end -}}
{{- end -}}

{{/* A hook Job's account: its own `serviceAccountName`, else the top level's account when the
operator made it (it exists before a pre-upgrade hook runs), else none (the namespace's default). */}}
{{- define "todo.jobServiceAccountName" -}}
{{- $shared := .root.Values.serviceAccount -}}
{{- if .own.serviceAccountName -}}
{{- .own.serviceAccountName -}}
{{- else if and (not $shared.create) $shared.name -}}
{{- $shared.name -}}
{{- end -}}
{{- end -}}

{{/* The scheduling of a pod: node selector, tolerations, affinity, priority (from todo.podValues). */}}
{{- define "todo.podScheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end -}}

{{/* Spread constraints of a component's pods; one without a labelSelector selects them.
(dict "constraints" $pod.topologySpreadConstraints "selector" (the selector labels, a map)) */}}
{{- define "todo.topologySpread" -}}
{{- $spread := list -}}
{{- range $constraint := .constraints -}}
{{- $constraint = deepCopy $constraint -}}
{{- if not (hasKey $constraint "labelSelector") -}}
{{- $_ := set $constraint "labelSelector" (dict "matchLabels" $.selector) -}}
{{- end -}}
{{- $spread = append $spread $constraint -}}
{{- end -}}
{{- with $spread }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Values that came with this chart's pod settings. `helm upgrade --reuse-values` from an older
chart reuses that chart's values without this one's new defaults: say so, instead of failing on
a nil value or rendering pods without them. */}}
{{- define "todo.checkValues" -}}
{{- range $key := list "serviceAccount" "tests" -}}
{{- if not (hasKey $.Values $key) -}}
{{- fail (printf "the value %s is missing: values reused from an older chart (helm upgrade --reuse-values) lack this chart's new defaults; upgrade with --reset-then-reuse-values (Helm 3.14 or later), or pass your values again with -f" $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}
