# Sourced by ./bulkhead: bulkhead_heap_opts ARGS... prints the JVM heap flag for the command about to run (empty for
# commands that load no model, and when BULKHEAD_JAVA_OPTS already sets a heap size, which then decides).
#
# NOTE: without a limit the JVM may grow its heap to a quarter of the machine's memory, and under load it does:
# `serve` of the 260K-parameter embedded model reached 2.5 GB RSS. What the heap holds is known up front: the CPU
# backend's KV pool (float arrays, fixed at start), plus buffers that grow with the model's shape (activations,
# logits, vocabulary tables); the weights themselves are memory-mapped, outside the heap. So:
#   heap = 256 MB + KV pool * 4/3 + min(weights / 16, 1 GB), rounded up to 64 MB, at most 80% of physical memory.
# The 4/3 is the headroom `serve` checks for (the KV pool may take at most 3/4 of the heap).
# KV pool: serve's --kv-cache-mb when it is a number, or the sum of a router config's kvCacheBytes (16 MiB for a model
# that sets none); generate/chat: one conversation of --context tokens (default 4096, capped at the model's), from the
# model's config.json, or the weights' size for GGUF and llama2.c files, whose shape this script cannot read. A repo id
# (--model ORG/NAME) is looked up in the hub cache as the CLI does. With
# --device cuda the KV pool lives on the GPU and does not count.
# serve's --kv-cache-mb auto (the default): the engine sizes its pool for --max-running requests (default 64) at the
# full --context (default 2048, capped at the model's), capped by 3/4 of the heap it gets, so the heap is sized for that
# demand here (from config.json; 256 MB, the old fixed default, when the shape is unknown), capped so the heap stays
# within 80% of the memory available now: MemAvailable, less the weights. NOTE: MemAvailable rather than physical
# memory because the pool is allocated and zeroed at start, so it takes real memory at once, unlike the rest of the
# heap; a pool sized from MemTotal on a machine whose other processes hold half of it would swap or meet the OOM
# killer. The weights are memory-mapped and need that page cache to stay resident. The floor is one full-context
# request, below which the engine refuses to start (and says so). Without MemAvailable (macOS), physical memory.

bulkhead_file_mb() {
  # size of one file in MB, 0 when it is missing
  if [ -f "$1" ]; then echo $(( $(wc -c < "$1") / 1048576 )); else echo 0; fi
}

bulkhead_weights_mb() {
  # the model's weight files in MB: a file, or the weight files of a directory; 0 for the embedded model
  local total=0 f
  if [ -f "$1" ]; then
    bulkhead_file_mb "$1"
    return 0
  fi
  if [ -n "$1" ] && [ -d "$1" ]; then
    for f in "$1"/*.safetensors "$1"/*.gguf "$1"/*.bin; do
      [ -f "$f" ] && total=$(( total + $(bulkhead_file_mb "$f") ))
    done
  fi
  echo "$total"
}

bulkhead_json_int() {
  # the first integer value of "$2" in JSON file $1, empty when absent
  grep -o "\"$2\"[[:space:]]*:[[:space:]]*[0-9]*" "$1" 2>/dev/null | head -n 1 | grep -o '[0-9]*$' || true
}

bulkhead_kv_token_bytes() {
  # f32 K and V bytes of one token over every layer of model $1, from its config.json; empty when the shape is unknown
  local config="$1/config.json" layers heads kv_heads hidden head_dim
  if [ -z "$1" ]; then echo 1280; return 0; fi   # the embedded stories260K: 2 * 5 layers * 4 KV heads * 8 dims * 4 B
  if [ ! -f "$config" ]; then return 0; fi
  layers=$(bulkhead_json_int "$config" num_hidden_layers)
  heads=$(bulkhead_json_int "$config" num_attention_heads)
  kv_heads=$(bulkhead_json_int "$config" num_key_value_heads)
  hidden=$(bulkhead_json_int "$config" hidden_size)
  head_dim=$(bulkhead_json_int "$config" head_dim)
  if [ -z "$layers" ] || [ -z "$heads" ] || [ -z "$hidden" ] || [ "$heads" -eq 0 ]; then return 0; fi
  kv_heads=${kv_heads:-$heads}
  head_dim=${head_dim:-$(( hidden / heads ))}
  echo $(( 2 * layers * kv_heads * head_dim * 4 ))
}

bulkhead_context_tokens() {
  # $2 tokens capped at model $1's max_position_embeddings (512 for the embedded model), as the CLI caps --context
  local max_pos
  if [ -z "$1" ]; then max_pos=512; else max_pos=$(bulkhead_json_int "$1/config.json" max_position_embeddings); fi
  if [ -n "$max_pos" ] && [ "$max_pos" -lt "$2" ]; then echo "$max_pos"; else echo "$2"; fi
}

bulkhead_context_kv_mb() {
  # KV cache in MB for one sequence of $2 tokens of model $1 (f32 K and V, every layer); $3 = weights MB fallback
  local per_token tokens
  per_token=$(bulkhead_kv_token_bytes "$1")
  if [ -z "$per_token" ]; then echo "$3"; return 0; fi
  tokens=$(bulkhead_context_tokens "$1" "$2")
  echo $(( (per_token * (tokens + 32) + 1048575) / 1048576 ))
}

bulkhead_auto_kv_mb() {
  # serve's automatic KV pool in MB before any memory cap: $3 requests at the full context of $2 tokens of model $1,
  # counted as the engine counts (whole 16-token blocks, plus the null block); 256 when the shape is unknown
  local per_token tokens
  per_token=$(bulkhead_kv_token_bytes "$1")
  if [ -z "$per_token" ]; then echo 256; return 0; fi
  tokens=$(bulkhead_context_tokens "$1" "$2")
  echo $(( (per_token * ($3 * ((tokens + 15) / 16 * 16) + 16) + 1048575) / 1048576 ))
}

bulkhead_config_kv_mb() {
  # the KV pools of a router config in MB: each model's kvCacheBytes, 16 MiB for a model that sets none
  local total=0 n set=0 models
  for n in $(grep -o 'kvCacheBytes["[:space:]]*:[[:space:]]*[0-9]*' "$1" 2>/dev/null | grep -o '[0-9]*$'); do
    total=$(( total + n / 1048576 )); set=$(( set + 1 ))
  done
  models=$(grep -c '"*source"*[[:space:]]*:' "$1" 2>/dev/null || true)
  models=${models:-0}
  if [ "$models" -gt "$set" ]; then total=$(( total + 16 * (models - set) )); fi
  echo "$total"
}

bulkhead_pulled_dir() {
  # the snapshot directory of a repo id pulled into the hub cache (as `--model ORG/NAME` resolves it), else $1 itself
  local hub ref
  case "$1" in
    */*/*|/*|.*|*..*) echo "$1"; return 0 ;;
    */*) ;;
    *) echo "$1"; return 0 ;;
  esac
  if [ -e "$1" ]; then echo "$1"; return 0; fi
  if [ -n "${BULKHEAD_CACHE:-}" ]; then hub="$BULKHEAD_CACHE"
  elif [ -n "${XDG_CACHE_HOME:-}" ]; then hub="$XDG_CACHE_HOME/bulkhead/hub"
  else hub="$HOME/.cache/bulkhead/hub"; fi
  ref="$hub/models--${1%%/*}--${1#*/}/refs/main"
  if [ -f "$ref" ]; then echo "$hub/models--${1%%/*}--${1#*/}/snapshots/$(cat "$ref")"; else echo "$1"; fi
}

bulkhead_memory_mb() {
  # physical memory in MB, empty when unknown
  if [ -r /proc/meminfo ]; then
    awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo
  elif command -v sysctl >/dev/null 2>&1; then
    echo $(( $(sysctl -n hw.memsize 2>/dev/null || echo 0) / 1048576 ))
  fi
}

bulkhead_available_mb() {
  # memory available for a new process without swapping (MemAvailable) in MB, empty when unknown
  if [ -r /proc/meminfo ]; then
    awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo
  fi
}

bulkhead_heap_opts() {
  local cmd="${1:-}" model="" kv_mb="" context="" max_running="64" config="" device="cpu" weights_mb heap fixed \
    memory available ceiling room floor
  case "$cmd" in serve|generate|chat) shift ;; *) return 0 ;; esac
  case " ${BULKHEAD_JAVA_OPTS:-} " in
    *" -Xmx"*|*"MaxHeapSize"*|*"MaxRAMPercentage"*|*"MaxRAM="*) return 0 ;;
  esac
  while [ $# -gt 0 ]; do
    case "$1" in
      -m|--model) model="${2:-}"; shift ;;
      --model=*) model="${1#*=}" ;;
      --kv-cache-mb) kv_mb="${2:-}"; shift ;;
      --kv-cache-mb=*) kv_mb="${1#*=}" ;;
      -c|--context) context="${2:-}"; shift ;;
      --context=*) context="${1#*=}" ;;
      --max-running) max_running="${2:-}"; shift ;;
      --max-running=*) max_running="${1#*=}" ;;
      --config) config="${2:-}"; shift ;;
      --config=*) config="${1#*=}" ;;
      --device) device="${2:-}"; shift ;;
      --device=*) device="${1#*=}" ;;
    esac
    [ $# -gt 0 ] && shift
  done
  case "$kv_mb" in [Aa][Uu][Tt][Oo]) kv_mb="" ;; esac   # auto, as when it is not given
  if [ -z "$context" ]; then
    if [ "$cmd" = serve ]; then context=2048; else context=4096; fi   # the commands' own defaults
  fi
  case "$kv_mb$context$max_running" in *[!0-9]*) return 0 ;; esac   # not numbers: let the command say what is wrong
  model=$(bulkhead_pulled_dir "$model")
  weights_mb=$(bulkhead_weights_mb "$model")
  fixed=$(( weights_mb / 16 ))
  if [ "$fixed" -gt 1024 ]; then fixed=1024; fi
  fixed=$(( 256 + fixed ))
  memory=$(bulkhead_memory_mb)
  if [ "$cmd" = serve ]; then
    if [ -n "$config" ]; then
      kv_mb=$(bulkhead_config_kv_mb "$config")
    elif [ -z "$kv_mb" ]; then
      kv_mb=$(bulkhead_auto_kv_mb "$model" "$context" "$max_running")
      # NOTE: the cap: 80% of what is available now, less the weights, and of physical memory (see the top).
      ceiling=""
      if [ -n "$memory" ] && [ "$memory" -gt 0 ]; then ceiling=$(( memory * 4 / 5 )); fi
      available=$(bulkhead_available_mb)
      if [ -n "$available" ] && [ "$available" -gt 0 ]; then
        available=$(( (available - weights_mb) * 4 / 5 ))
        if [ -z "$ceiling" ] || [ "$available" -lt "$ceiling" ]; then ceiling=$available; fi
      fi
      if [ -n "$ceiling" ]; then
        room=$(( (ceiling - fixed) * 3 / 4 ))
        floor=$(bulkhead_context_kv_mb "$model" "$context" "$weights_mb")
        if [ "$room" -lt "$floor" ]; then room=$floor; fi
        if [ "$kv_mb" -gt "$room" ]; then kv_mb=$room; fi
      fi
    fi
  else
    kv_mb=$(bulkhead_context_kv_mb "$model" "$context" "$weights_mb")
  fi
  case "$device" in cuda*) kv_mb=0 ;; esac
  heap=$(( fixed + kv_mb * 4 / 3 ))
  heap=$(( (heap + 63) / 64 * 64 ))
  if [ -n "$memory" ] && [ "$memory" -gt 0 ] && [ "$heap" -gt $(( memory * 4 / 5 )) ]; then
    heap=$(( memory * 4 / 5 ))
  fi
  echo "-Xmx${heap}m"
}
