#!/usr/bin/env bash
# Deploys ATP (router + memory gateway) to Google Cloud Run, with everything they need:
# APIs, service accounts and IAM, VPC connector, Cloud SQL, Memorystore, Artifact Registry,
# Secret Manager, images, migrations (a Cloud Run Job), services, alerting, and optionally a
# global HTTPS load balancer. Every create is guarded by a describe: a second run creates
# nothing and only rolls out a new revision. See deploy/cloud-run/README.md.
set -Eeuo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
readonly SCRIPT_DIR REPO_ROOT
readonly MONITORING_DIR="$SCRIPT_DIR/monitoring"

# Names (the seed's). Changing them here changes them everywhere.
readonly ROUTER_SERVICE=atp-router-service
readonly GATEWAY_SERVICE=atp-memory-gateway
readonly ROUTER_IMAGE=atp-router
readonly GATEWAY_IMAGE=atp-memory-gateway
readonly ROUTER_SA=atp-router
readonly GATEWAY_SA=atp-memory-gateway
readonly MIGRATE_SA=atp-migrate
readonly MIGRATE_JOB=atp-migrate
readonly SQL_INSTANCE=atp-postgres
readonly SQL_DATABASE=atp
readonly SQL_USER=atp
readonly REDIS_INSTANCE=atp-redis
readonly CONNECTOR=atp-connector
readonly SECRET_DATABASE=atp-database-secret
readonly SECRET_REDIS=atp-redis-secret
readonly SECRET_AUTH=atp-auth-secret
readonly SECRET_OIDC=atp-oidc-secret
readonly SECRET_PROVIDERS=atp-provider-secrets
readonly SECRET_ENCRYPTION=atp-encryption-secret
readonly ALL_SECRETS=("$SECRET_DATABASE" "$SECRET_REDIS" "$SECRET_AUTH" "$SECRET_OIDC" "$SECRET_PROVIDERS" "$SECRET_ENCRYPTION")
# The router reads the encryption key ring too: stored responses are encrypted with the tenants' data keys.
readonly ROUTER_SECRETS=("$SECRET_DATABASE" "$SECRET_REDIS" "$SECRET_AUTH" "$SECRET_OIDC" "$SECRET_PROVIDERS" "$SECRET_ENCRYPTION")
readonly GATEWAY_SECRETS=("$SECRET_DATABASE" "$SECRET_REDIS" "$SECRET_AUTH" "$SECRET_OIDC" "$SECRET_ENCRYPTION")
# The CLI validates the production env (DATABASE_URL, REDIS_URL, JWT_SECRET_KEY) before it migrates.
readonly MIGRATE_SECRETS=("$SECRET_DATABASE" "$SECRET_REDIS" "$SECRET_AUTH")
readonly SERVICE_ROLES=(roles/cloudsql.client roles/cloudtrace.agent roles/monitoring.metricWriter roles/logging.logWriter)
readonly MIGRATE_ROLES=(roles/cloudsql.client roles/logging.logWriter)
readonly APIS=(run.googleapis.com cloudbuild.googleapis.com artifactregistry.googleapis.com sqladmin.googleapis.com
  redis.googleapis.com secretmanager.googleapis.com vpcaccess.googleapis.com compute.googleapis.com
  iam.googleapis.com monitoring.googleapis.com logging.googleapis.com cloudtrace.googleapis.com
  billingbudgets.googleapis.com)
readonly LB_ADDRESS=atp-lb-ip
readonly LB_CERT=atp-cert
readonly LB_URL_MAP=atp-url-map
readonly LB_PROXY=atp-https-proxy
readonly LB_RULE=atp-https-rule
readonly LB_ARMOR=atp-armor-policy

# Options (flags override the environment).
PROJECT_ID="${PROJECT_ID:-}"
REGION="${REGION:-us-central1}"
REGIONS_CSV=""
IMAGE_TAG=""
REPOSITORY="${ATP_ARTIFACT_REPOSITORY:-atp}"
BUILDER="${ATP_BUILDER:-cloudbuild}"
NETWORK="${ATP_NETWORK:-default}"
DRY_RUN=false
SKIP_INFRA=false
ROTATE_SECRETS=false
LB_DOMAIN=""
OIDC_CONFIG_SRC=""
PROVIDER_KEYS_SRC=""
COMMAND=deploy
HEALTH_ATTEMPTS="${ATP_DEPLOY_HEALTH_ATTEMPTS:-30}"
HEALTH_INTERVAL="${ATP_DEPLOY_HEALTH_INTERVAL:-5}"

CURRENT_STEP="start"
WORK_DIR=""
REGIONS=()
PRIMARY_REGION=""
declare -A SECRET_VERSION=()
declare -A SERVICE_URL=()

usage() {
  cat <<'EOF'
Usage: deploy/cloud-run/deploy.sh [deploy] [options]
       deploy/cloud-run/deploy.sh cleanup --project ID [--region R | --regions a,b] [--dry-run]

Deploys the ATP router and memory gateway to Cloud Run with their infrastructure.
Safe to re-run: every create is guarded by a describe; a second run only rolls out a new revision.

Options:
  --project ID                Google Cloud project (or $PROJECT_ID)
  --region R                  region for everything (or $REGION; default us-central1)
  --regions a,b,c             deploy the services to several regions; the first one also holds
                              Cloud SQL, Memorystore, Artifact Registry and the migration job
  --image-tag TAG             image tag to build and pin (default: the current git commit)
  --repository NAME           Artifact Registry repository (default: atp)
  --builder cloudbuild|docker build images with Cloud Build (default) or the local docker
  --oidc-config FILE          JSON for the atp-oidc-secret when it is created (default: {})
  --provider-keys FILE        JSON for the atp-provider-secrets when it is created (default: {})
  --rotate-secrets            add new versions of the generated secrets (and of the JSON secrets
                              given with --oidc-config / --provider-keys); never done otherwise
  --skip-infra                only build, migrate and deploy (infrastructure must exist)
  --with-load-balancer DOMAIN global HTTPS load balancer: reserved address, serverless NEGs,
                              managed certificate for DOMAIN, HTTPS proxy, Cloud Armor policy
  --dry-run                   print every command, run none
  -h, --help                  this text

Commands:
  deploy                      (default) everything above
  cleanup                     delete what deploy created, after asking for the project id
EOF
}

log() { printf '%s\n' "$*" >&2; }
die() {
  if [[ "$CURRENT_STEP" == start ]]; then log "deploy.sh: $*"; else log "deploy.sh: step '${CURRENT_STEP}' failed: $*"; fi
  exit 1
}

on_error() {
  local code=$1 line=$2
  # A failure inside $(…) is reported once, by the command that used its output.
  if ((BASH_SUBSHELL > 0)); then exit "$code"; fi
  log "deploy.sh: step '${CURRENT_STEP}' failed (exit ${code}, line ${line})"
  exit "$code"
}
trap 'on_error $? $LINENO' ERR

cleanup_work_dir() {
  if [[ -n "$WORK_DIR" && -d "$WORK_DIR" ]]; then rm -rf "$WORK_DIR"; fi
}
trap cleanup_work_dir EXIT

step() {
  CURRENT_STEP="$1"
  log ""
  log "==> $1"
}

# Prints a command the way a shell would read it back, with password values masked.
print_cmd() {
  local out="" arg
  for arg in "$@"; do
    case "$arg" in
      --password=*) arg="--password=********" ;;
    esac
    out+=" $(printf '%q' "$arg")"
  done
  printf '+%s\n' "$out" >&2
}

# Runs a command that changes something (or prints it under --dry-run).
run() {
  print_cmd "$@"
  if [[ "$DRY_RUN" == true ]]; then return 0; fi
  "$@"
}

# Runs a read-only command and prints its stdout; under --dry-run prints the command and $DRY_VALUE.
query() {
  if [[ "$DRY_RUN" == true ]]; then
    print_cmd "$@"
    printf '%s' "${DRY_VALUE-DRY_RUN_VALUE}"
    return 0
  fi
  "$@"
}

# True when a describe-style command succeeds. Under --dry-run nothing is assumed to exist.
exists() {
  if [[ "$DRY_RUN" == true ]]; then
    print_cmd "$@"
    return 1
  fi
  "$@" >/dev/null 2>&1
}

# Pipes a secret value into a command on stdin, so it never appears in argv or in the output.
run_with_stdin() {
  local value=$1
  shift
  print_cmd "$@"
  if [[ "$DRY_RUN" == true ]]; then return 0; fi
  printf '%s' "$value" | "$@"
}

random_hex() { openssl rand -hex "$1"; }
random_base64() { openssl rand -base64 "$1" | tr -d '\n'; }

parse_args() {
  if [[ $# -gt 0 && "$1" != -* ]]; then
    case "$1" in
      deploy | cleanup) COMMAND=$1 ;;
      help) usage; exit 0 ;;
      *) usage >&2; die "unknown command: $1" ;;
    esac
    shift
  fi
  while [[ $# -gt 0 ]]; do
    # --flag=value is the same as --flag value.
    if [[ "$1" == --*=* ]]; then set -- "${1%%=*}" "${1#*=}" "${@:2}"; fi
    case "$1" in
      --project) PROJECT_ID=${2:?--project needs a value}; shift 2 ;;
      --region) REGION=${2:?--region needs a value}; shift 2 ;;
      --regions) REGIONS_CSV=${2:?--regions needs a value}; shift 2 ;;
      --image-tag) IMAGE_TAG=${2:?--image-tag needs a value}; shift 2 ;;
      --repository) REPOSITORY=${2:?--repository needs a value}; shift 2 ;;
      --builder) BUILDER=${2:?--builder needs a value}; shift 2 ;;
      --oidc-config) OIDC_CONFIG_SRC=${2:?--oidc-config needs a file}; shift 2 ;;
      --provider-keys) PROVIDER_KEYS_SRC=${2:?--provider-keys needs a file}; shift 2 ;;
      --with-load-balancer) LB_DOMAIN=${2:?--with-load-balancer needs a domain}; shift 2 ;;
      --rotate-secrets) ROTATE_SECRETS=true; shift ;;
      --skip-infra) SKIP_INFRA=true; shift ;;
      --dry-run) DRY_RUN=true; shift ;;
      -h | --help) usage; exit 0 ;;
      *) usage >&2; die "unknown option: $1" ;;
    esac
  done

  [[ -n "$PROJECT_ID" ]] || die "--project (or PROJECT_ID) is required"
  if [[ -n "$REGIONS_CSV" ]]; then
    IFS=',' read -r -a REGIONS <<<"$REGIONS_CSV"
  else
    REGIONS=("$REGION")
  fi
  [[ ${#REGIONS[@]} -gt 0 && -n "${REGIONS[0]}" ]] || die "--regions needs at least one region"
  PRIMARY_REGION=${REGIONS[0]}
  case "$BUILDER" in cloudbuild | docker) ;; *) die "--builder must be cloudbuild or docker" ;; esac
  if [[ -n "$OIDC_CONFIG_SRC" && ! -r "$OIDC_CONFIG_SRC" ]]; then die "cannot read $OIDC_CONFIG_SRC"; fi
  if [[ -n "$PROVIDER_KEYS_SRC" && ! -r "$PROVIDER_KEYS_SRC" ]]; then die "cannot read $PROVIDER_KEYS_SRC"; fi
  if [[ -z "$IMAGE_TAG" ]]; then
    IMAGE_TAG=$(git -C "$REPO_ROOT" rev-parse HEAD 2>/dev/null) ||
      die "--image-tag is required outside a git checkout"
  fi
  [[ "$IMAGE_TAG" != latest ]] || die "refusing to deploy the 'latest' tag: pin a commit"
}

registry() { printf '%s-docker.pkg.dev/%s/%s' "$PRIMARY_REGION" "$PROJECT_ID" "$REPOSITORY"; }
sa_email() { printf '%s@%s.iam.gserviceaccount.com' "$1" "$PROJECT_ID"; }
sql_connection_name() { printf '%s:%s:%s' "$PROJECT_ID" "$PRIMARY_REGION" "$SQL_INSTANCE"; }

check_prerequisites() {
  step "check prerequisites"
  command -v gcloud >/dev/null || die "gcloud is not installed (https://cloud.google.com/sdk/docs/install)"
  if [[ "$SKIP_INFRA" != true ]]; then
    command -v openssl >/dev/null || die "openssl is required to generate secrets"
  fi
  command -v curl >/dev/null || die "curl is required to check /health"
  if [[ "$BUILDER" == docker ]]; then command -v docker >/dev/null || die "docker is not installed"; fi
  local account
  account=$(DRY_VALUE="you@example.com" query gcloud auth list --filter=status:ACTIVE --format='value(account)')
  [[ -n "$account" ]] || die "gcloud is not authenticated: run 'gcloud auth login'"
  exists gcloud projects describe "$PROJECT_ID" || [[ "$DRY_RUN" == true ]] ||
    die "project $PROJECT_ID not found or not accessible"
  log "project ${PROJECT_ID}, regions ${REGIONS[*]}, image tag ${IMAGE_TAG}"
}

enable_apis() {
  step "enable APIs"
  local enabled missing=() api
  enabled=$(DRY_VALUE="" query gcloud services list --enabled --project="$PROJECT_ID" --format='value(config.name)')
  for api in "${APIS[@]}"; do
    grep -qxF "$api" <<<"$enabled" || missing+=("$api")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "all APIs already enabled"
  else
    run gcloud services enable "${missing[@]}" --project="$PROJECT_ID"
  fi
}

# Grants roles/secretmanager.secretAccessor on one secret (never project-wide), unless present.
ensure_secret_access() {
  local secret=$1 member=$2 found
  found=$(DRY_VALUE="" query gcloud secrets get-iam-policy "$secret" --project="$PROJECT_ID" \
    --flatten='bindings[].members' \
    --filter="bindings.role=roles/secretmanager.secretAccessor AND bindings.members=${member}" \
    --format='value(bindings.role)')
  if [[ -n "$found" ]]; then return 0; fi
  run gcloud secrets add-iam-policy-binding "$secret" --project="$PROJECT_ID" \
    --member="$member" --role=roles/secretmanager.secretAccessor >/dev/null
}

ensure_project_role() {
  local member=$1 role=$2 found
  found=$(DRY_VALUE="" query gcloud projects get-iam-policy "$PROJECT_ID" \
    --flatten='bindings[].members' --filter="bindings.role=${role} AND bindings.members=${member}" \
    --format='value(bindings.role)')
  if [[ -n "$found" ]]; then return 0; fi
  run gcloud projects add-iam-policy-binding "$PROJECT_ID" \
    --member="$member" --role="$role" --condition=None >/dev/null
}

create_service_accounts() {
  step "service accounts and IAM"
  local sa role
  for sa in "$ROUTER_SA:ATP router" "$GATEWAY_SA:ATP memory gateway" "$MIGRATE_SA:ATP migrations"; do
    local name=${sa%%:*} display=${sa#*:}
    if exists gcloud iam service-accounts describe "$(sa_email "$name")" --project="$PROJECT_ID"; then
      log "service account $name exists"
    else
      run gcloud iam service-accounts create "$name" --project="$PROJECT_ID" --display-name="$display (Cloud Run)"
    fi
  done
  for sa in "$ROUTER_SA" "$GATEWAY_SA"; do
    for role in "${SERVICE_ROLES[@]}"; do ensure_project_role "serviceAccount:$(sa_email "$sa")" "$role"; done
  done
  for role in "${MIGRATE_ROLES[@]}"; do ensure_project_role "serviceAccount:$(sa_email "$MIGRATE_SA")" "$role"; done
}

# Secret-level grants need the secrets to exist, so they run after create_secrets.
grant_secret_access() {
  step "secret access (per secret, per service account)"
  local secret
  for secret in "${ROUTER_SECRETS[@]}"; do ensure_secret_access "$secret" "serviceAccount:$(sa_email "$ROUTER_SA")"; done
  for secret in "${GATEWAY_SECRETS[@]}"; do ensure_secret_access "$secret" "serviceAccount:$(sa_email "$GATEWAY_SA")"; done
  for secret in "${MIGRATE_SECRETS[@]}"; do ensure_secret_access "$secret" "serviceAccount:$(sa_email "$MIGRATE_SA")"; done
}

create_vpc_connectors() {
  step "VPC connectors"
  local i region
  for i in "${!REGIONS[@]}"; do
    region=${REGIONS[$i]}
    if exists gcloud compute networks vpc-access connectors describe "$CONNECTOR" --region="$region" --project="$PROJECT_ID"; then
      log "VPC connector $CONNECTOR exists in $region"
    else
      # One /28 per region, side by side: 10.8.0.0/28, 10.8.0.16/28, …
      run gcloud compute networks vpc-access connectors create "$CONNECTOR" --project="$PROJECT_ID" \
        --region="$region" --network="$NETWORK" --range="10.8.0.$((i * 16))/28" \
        --min-instances=2 --max-instances=10 --machine-type=e2-micro
    fi
  done
}

create_cloud_sql() {
  step "Cloud SQL (PostgreSQL 14)"
  if exists gcloud sql instances describe "$SQL_INSTANCE" --project="$PROJECT_ID"; then
    log "Cloud SQL instance $SQL_INSTANCE exists"
  else
    run gcloud sql instances create "$SQL_INSTANCE" --project="$PROJECT_ID" --region="$PRIMARY_REGION" \
      --database-version=POSTGRES_14 --edition=enterprise --tier=db-custom-2-4096 \
      --availability-type=REGIONAL --storage-auto-increase \
      --backup-start-time=03:00 --enable-point-in-time-recovery --retained-transaction-log-days=7 \
      --deletion-protection
  fi
  if exists gcloud sql databases describe "$SQL_DATABASE" --instance="$SQL_INSTANCE" --project="$PROJECT_ID"; then
    log "database $SQL_DATABASE exists"
  else
    run gcloud sql databases create "$SQL_DATABASE" --instance="$SQL_INSTANCE" --project="$PROJECT_ID"
  fi

  # The password is generated here and lives only in the atp-database-secret URL.
  local user_exists=false secret_exists=false password
  if exists gcloud sql users describe "$SQL_USER" --instance="$SQL_INSTANCE" --project="$PROJECT_ID"; then
    user_exists=true
  fi
  if exists gcloud secrets describe "$SECRET_DATABASE" --project="$PROJECT_ID"; then secret_exists=true; fi
  if [[ "$user_exists" == true && "$secret_exists" == true && "$ROTATE_SECRETS" != true ]]; then
    log "database user $SQL_USER and $SECRET_DATABASE exist"
    return 0
  fi
  password=$(random_hex 24)
  if [[ "$user_exists" == true ]]; then
    run gcloud sql users set-password "$SQL_USER" --instance="$SQL_INSTANCE" --project="$PROJECT_ID" \
      --password="$password"
  else
    run gcloud sql users create "$SQL_USER" --instance="$SQL_INSTANCE" --project="$PROJECT_ID" \
      --password="$password"
  fi
  # Cloud Run mounts the Cloud SQL socket under /cloudsql/<connection name>.
  put_secret "$SECRET_DATABASE" \
    "postgres://${SQL_USER}:${password}@/${SQL_DATABASE}?host=/cloudsql/$(sql_connection_name)" "$secret_exists"
}

create_redis() {
  step "Memorystore (Redis)"
  if exists gcloud redis instances describe "$REDIS_INSTANCE" --region="$PRIMARY_REGION" --project="$PROJECT_ID"; then
    log "Redis instance $REDIS_INSTANCE exists"
  else
    run gcloud redis instances create "$REDIS_INSTANCE" --project="$PROJECT_ID" --region="$PRIMARY_REGION" \
      --tier=standard --size=1 --redis-version=redis_7_2 --network="$NETWORK" --enable-auth \
      --persistence-mode=rdb --rdb-snapshot-period=24h
  fi
}

create_artifact_registry() {
  step "Artifact Registry"
  if exists gcloud artifacts repositories describe "$REPOSITORY" --location="$PRIMARY_REGION" --project="$PROJECT_ID"; then
    log "repository $REPOSITORY exists"
  else
    run gcloud artifacts repositories create "$REPOSITORY" --project="$PROJECT_ID" --location="$PRIMARY_REGION" \
      --repository-format=docker --description="ATP images"
  fi
}

# put_secret NAME VALUE EXISTS: create the secret, or add a version when it exists (rotation).
put_secret() {
  local name=$1 value=$2 already=$3
  if [[ "$already" == true ]]; then
    run_with_stdin "$value" gcloud secrets versions add "$name" --project="$PROJECT_ID" --data-file=-
  else
    run_with_stdin "$value" gcloud secrets create "$name" --project="$PROJECT_ID" \
      --replication-policy=automatic --labels=app=atp --data-file=-
  fi
}

# ensure_secret NAME GENERATOR: create when missing; add a version only with --rotate-secrets.
ensure_secret() {
  local name=$1 generator=$2 already=false
  if exists gcloud secrets describe "$name" --project="$PROJECT_ID"; then already=true; fi
  if [[ "$already" == true && "$ROTATE_SECRETS" != true ]]; then
    log "secret $name exists (kept; --rotate-secrets adds a new version)"
    return 0
  fi
  local value
  value=$("$generator" "$already") || return 1
  if [[ -z "$value" ]]; then
    log "secret $name kept"
    return 0
  fi
  put_secret "$name" "$value" "$already"
}

gen_auth_secret() { random_base64 48; }

# Key ring "kid:base64,…": a rotation puts the new key first and keeps the old ones for reading.
gen_encryption_secret() {
  local rotating=$1 key
  key="k$(date -u +%Y%m%d%H%M%S):$(random_base64 32)"
  if [[ "$rotating" == true ]]; then
    local current
    current=$(DRY_VALUE="k0:DRY_RUN" query gcloud secrets versions access latest --secret="$SECRET_ENCRYPTION" \
      --project="$PROJECT_ID")
    printf '%s,%s' "$key" "$current"
  else
    printf '%s' "$key"
  fi
}

gen_redis_secret() {
  local host port auth
  host=$(DRY_VALUE="10.0.0.3" query gcloud redis instances describe "$REDIS_INSTANCE" --region="$PRIMARY_REGION" \
    --project="$PROJECT_ID" --format='value(host)')
  port=$(DRY_VALUE="6379" query gcloud redis instances describe "$REDIS_INSTANCE" --region="$PRIMARY_REGION" \
    --project="$PROJECT_ID" --format='value(port)')
  auth=$(DRY_VALUE="DRY_RUN_AUTH" query gcloud redis instances get-auth-string "$REDIS_INSTANCE" \
    --region="$PRIMARY_REGION" --project="$PROJECT_ID" --format='value(authString)')
  [[ -n "$host" && -n "$port" ]] || { log "Redis host/port not available yet"; return 1; }
  printf 'redis://:%s@%s:%s' "$auth" "$host" "${port:-6379}"
}

# JSON secrets: the given file, or {} on first creation (the app then has no OIDC / no provider).
gen_oidc_secret() {
  local rotating=$1
  if [[ -n "$OIDC_CONFIG_SRC" ]]; then cat "$OIDC_CONFIG_SRC"; elif [[ "$rotating" != true ]]; then printf '{}'; fi
}
gen_provider_secret() {
  local rotating=$1
  if [[ -n "$PROVIDER_KEYS_SRC" ]]; then cat "$PROVIDER_KEYS_SRC"; elif [[ "$rotating" != true ]]; then printf '{}'; fi
}

create_secrets() {
  step "secrets"
  # atp-database-secret is written by the Cloud SQL step (it holds the generated password).
  if ! exists gcloud secrets describe "$SECRET_DATABASE" --project="$PROJECT_ID" && [[ "$DRY_RUN" != true ]]; then
    die "$SECRET_DATABASE is missing: run without --skip-infra once"
  fi
  ensure_secret "$SECRET_REDIS" gen_redis_secret
  ensure_secret "$SECRET_AUTH" gen_auth_secret
  ensure_secret "$SECRET_OIDC" gen_oidc_secret
  ensure_secret "$SECRET_PROVIDERS" gen_provider_secret
  ensure_secret "$SECRET_ENCRYPTION" gen_encryption_secret
}

# Revisions pin secret versions: a rotation reaches the services with the next deploy, on purpose.
resolve_secret_versions() {
  step "pin secret versions"
  local secret name
  for secret in "${ALL_SECRETS[@]}"; do
    name=$(DRY_VALUE="projects/${PROJECT_ID}/secrets/${secret}/versions/latest" query \
      gcloud secrets versions describe latest --secret="$secret" --project="$PROJECT_ID" --format='value(name)')
    [[ -n "$name" ]] || die "no enabled version of $secret"
    SECRET_VERSION[$secret]=${name##*/}
    log "$secret -> version ${SECRET_VERSION[$secret]}"
  done
}

build_images() {
  step "build and push images"
  local image dockerfile ref
  for image in "$ROUTER_IMAGE:router-service" "$GATEWAY_IMAGE:memory-gateway"; do
    dockerfile="deploy/docker/${image#*:}.Dockerfile"
    ref="$(registry)/${image%%:*}:${IMAGE_TAG}"
    if exists gcloud artifacts docker images describe "$ref" --project="$PROJECT_ID"; then
      log "$ref already built"
      continue
    fi
    if [[ "$BUILDER" == docker ]]; then
      run docker build --file "$REPO_ROOT/$dockerfile" --tag "$ref" "$REPO_ROOT"
      run docker push "$ref"
    else
      run gcloud builds submit "$REPO_ROOT" --project="$PROJECT_ID" --region="$PRIMARY_REGION" \
        --config="$SCRIPT_DIR/cloudbuild-image.yaml" \
        --substitutions="_DOCKERFILE=${dockerfile},_IMAGE=${ref}"
    fi
  done
}

prepare_docker_auth() {
  if [[ "$BUILDER" == docker ]]; then
    run gcloud auth configure-docker "${PRIMARY_REGION}-docker.pkg.dev" --quiet
  fi
}

run_migrations() {
  step "database migrations (Cloud Run Job $MIGRATE_JOB)"
  local secrets="DATABASE_URL=${SECRET_DATABASE}:${SECRET_VERSION[$SECRET_DATABASE]}"
  secrets+=",REDIS_URL=${SECRET_REDIS}:${SECRET_VERSION[$SECRET_REDIS]}"
  secrets+=",JWT_SECRET_KEY=${SECRET_AUTH}:${SECRET_VERSION[$SECRET_AUTH]}"
  # `jobs deploy` creates or updates the job with this commit's image; then one execution, waited for.
  run gcloud run jobs deploy "$MIGRATE_JOB" --project="$PROJECT_ID" --region="$PRIMARY_REGION" \
    --image="$(registry)/${ROUTER_IMAGE}:${IMAGE_TAG}" \
    --command=node --args=dist/apps/cli/main.js,migrate \
    --service-account="$(sa_email "$MIGRATE_SA")" \
    --set-cloudsql-instances="$(sql_connection_name)" \
    --vpc-connector="projects/${PROJECT_ID}/locations/${PRIMARY_REGION}/connectors/${CONNECTOR}" \
    --vpc-egress=private-ranges-only \
    --set-env-vars=NODE_ENV=production,LOG_LEVEL=INFO \
    --set-secrets="$secrets" \
    --max-retries=1 --task-timeout=600s
  run gcloud run jobs execute "$MIGRATE_JOB" --project="$PROJECT_ID" --region="$PRIMARY_REGION" --wait
}

# render_service SRC REGION DEST: substitutes every ${PLACEHOLDER} of a service YAML.
render_service() {
  local src=$1 region=$2 dest=$3 content secret var
  local -A values=(
    [PROJECT_ID]=$PROJECT_ID [REGION]=$region [SQL_REGION]=$PRIMARY_REGION
    [REGISTRY_REGION]=$PRIMARY_REGION [REPOSITORY]=$REPOSITORY [IMAGE_TAG]=$IMAGE_TAG
  )
  for secret in "${ALL_SECRETS[@]}"; do
    var=${secret^^}
    values["${var//-/_}_VERSION"]=${SECRET_VERSION[$secret]}
  done
  content=$(<"$src")
  for var in "${!values[@]}"; do
    content=${content//"\${${var}}"/${values[$var]}}
  done
  if [[ "$content" == *"\${"* ]]; then
    die "unsubstituted placeholder in $src: $(grep -oE "[$][{][A-Za-z_.]*[}]" <<<"$content" | sort -u | tr '\n' ' ')"
  fi
  printf '%s\n' "$content" >"$dest"
}

deploy_services() {
  local region=$1 file name
  step "deploy services to $region"
  for file in router-service memory-gateway; do
    render_service "$SCRIPT_DIR/$file.yaml" "$region" "$WORK_DIR/$file.$region.yaml"
    run gcloud run services replace "$WORK_DIR/$file.$region.yaml" --project="$PROJECT_ID" --region="$region"
  done
  # The apps authenticate every API call themselves (API keys, JWT, OIDC); Cloud Run IAM lets callers in.
  for name in "$ROUTER_SERVICE" "$GATEWAY_SERVICE"; do
    local found
    found=$(DRY_VALUE="" query gcloud run services get-iam-policy "$name" --region="$region" --project="$PROJECT_ID" \
      --flatten='bindings[].members' --filter='bindings.role=roles/run.invoker AND bindings.members=allUsers' \
      --format='value(bindings.role)')
    if [[ -z "$found" ]]; then
      run gcloud run services add-iam-policy-binding "$name" --region="$region" --project="$PROJECT_ID" \
        --member=allUsers --role=roles/run.invoker >/dev/null
    fi
  done
}

wait_for_health() {
  local region=$1 name url attempt
  step "wait for /health in $region"
  for name in "$ROUTER_SERVICE" "$GATEWAY_SERVICE"; do
    url=$(DRY_VALUE="https://${name}-dry-run.a.run.app" query gcloud run services describe "$name" \
      --region="$region" --project="$PROJECT_ID" --format='value(status.url)')
    [[ -n "$url" ]] || die "$name has no URL in $region"
    SERVICE_URL["$name@$region"]=$url
    if [[ "$DRY_RUN" == true ]]; then
      print_cmd curl -fsS --max-time 5 "$url/health"
      continue
    fi
    for ((attempt = 1; ; attempt++)); do
      if curl -fsS -o /dev/null --max-time 5 "$url/health"; then
        log "$name ($region) is healthy: $url"
        break
      fi
      if ((attempt >= HEALTH_ATTEMPTS)); then
        die "$name ($region) did not answer $url/health after $attempt attempts"
      fi
      sleep "$HEALTH_INTERVAL"
    done
  done
}

apply_monitoring() {
  step "alert policies, uptime checks, dashboard, budget"
  local file display found name region host
  for file in "$MONITORING_DIR"/alert-*.json; do
    display=$(sed -n 's/^  "displayName": "\(.*\)",$/\1/p' "$file" | head -n1)
    [[ -n "$display" ]] || die "$file has no top-level displayName"
    found=$(DRY_VALUE="" query gcloud alpha monitoring policies list --project="$PROJECT_ID" \
      --filter="displayName=\"${display}\"" --format='value(name)')
    if [[ -n "$found" ]]; then
      log "alert policy '$display' exists"
    else
      run gcloud alpha monitoring policies create --project="$PROJECT_ID" --policy-from-file="$file"
    fi
  done
  for name in "$ROUTER_SERVICE" "$GATEWAY_SERVICE"; do
    for region in "${REGIONS[@]}"; do
      host=${SERVICE_URL["$name@$region"]#https://}
      display="${name} ${region} /health"
      found=$(DRY_VALUE="" query gcloud monitoring uptime list-configs --project="$PROJECT_ID" \
        --filter="displayName=\"${display}\"" --format='value(name)')
      if [[ -z "$found" ]]; then
        run gcloud monitoring uptime create "$display" --project="$PROJECT_ID" --resource-type=uptime-url \
          --resource-labels="host=${host},project_id=${PROJECT_ID}" --path=/health --protocol=https \
          --period=1 --timeout=10 --user-labels=app=atp
      fi
    done
  done
  display=$(sed -n 's/^  "displayName": "\(.*\)",$/\1/p' "$MONITORING_DIR/dashboard.json" | head -n1)
  found=$(DRY_VALUE="" query gcloud monitoring dashboards list --project="$PROJECT_ID" \
    --filter="displayName=\"${display}\"" --format='value(name)')
  if [[ -z "$found" ]]; then
    run gcloud monitoring dashboards create --project="$PROJECT_ID" --config-from-file="$MONITORING_DIR/dashboard.json"
  fi
  apply_budget
}

apply_budget() {
  # shellcheck source=/dev/null  # (plain KEY="value" lines, see monitoring/budget.env)
  source "$MONITORING_DIR/budget.env"
  local account found rule
  local -a rules=()
  account=$(DRY_VALUE="billingAccounts/000000-000000-000000" query gcloud billing projects describe "$PROJECT_ID" \
    --format='value(billingAccountName)')
  if [[ -z "$account" ]]; then
    log "no billing account linked to $PROJECT_ID: budget alert skipped"
    return 0
  fi
  found=$(DRY_VALUE="" query gcloud billing budgets list --billing-account="${account#billingAccounts/}" \
    --filter="displayName=\"${BUDGET_DISPLAY_NAME}\"" --format='value(name)')
  if [[ -n "$found" ]]; then
    log "budget '$BUDGET_DISPLAY_NAME' exists"
    return 0
  fi
  for rule in $BUDGET_THRESHOLDS; do rules+=("--threshold-rule=percent=${rule}"); done
  run gcloud billing budgets create --billing-account="${account#billingAccounts/}" \
    --display-name="$BUDGET_DISPLAY_NAME" --budget-amount="$BUDGET_AMOUNT" \
    --filter-projects="projects/${PROJECT_ID}" "${rules[@]}"
}

create_load_balancer() {
  step "global HTTPS load balancer for $LB_DOMAIN"
  local region svc backend neg
  if ! exists gcloud compute addresses describe "$LB_ADDRESS" --global --project="$PROJECT_ID"; then
    run gcloud compute addresses create "$LB_ADDRESS" --global --ip-version=IPV4 --project="$PROJECT_ID"
  fi
  if ! exists gcloud compute security-policies describe "$LB_ARMOR" --project="$PROJECT_ID"; then
    run gcloud compute security-policies create "$LB_ARMOR" --project="$PROJECT_ID" \
      --description="ATP edge policy (Cloud Armor)"
    run gcloud compute security-policies update "$LB_ARMOR" --project="$PROJECT_ID" --enable-layer7-ddos-defense
    # Per-client throttle in front of the apps' own per-tenant limits.
    run gcloud compute security-policies rules create 1000 --security-policy="$LB_ARMOR" --project="$PROJECT_ID" \
      --expression='true' --action=throttle --rate-limit-threshold-count=6000 \
      --rate-limit-threshold-interval-sec=60 --conform-action=allow --exceed-action=deny-429 --enforce-on-key=IP
  fi
  for svc in "$ROUTER_SERVICE" "$GATEWAY_SERVICE"; do
    backend="${svc}-backend"
    if ! exists gcloud compute backend-services describe "$backend" --global --project="$PROJECT_ID"; then
      run gcloud compute backend-services create "$backend" --global --project="$PROJECT_ID" \
        --load-balancing-scheme=EXTERNAL_MANAGED
      run gcloud compute backend-services update "$backend" --global --project="$PROJECT_ID" \
        --security-policy="$LB_ARMOR"
    fi
    for region in "${REGIONS[@]}"; do
      neg="${svc}-neg-${region}"
      if ! exists gcloud compute network-endpoint-groups describe "$neg" --region="$region" --project="$PROJECT_ID"; then
        run gcloud compute network-endpoint-groups create "$neg" --region="$region" --project="$PROJECT_ID" \
          --network-endpoint-type=serverless --cloud-run-service="$svc"
        run gcloud compute backend-services add-backend "$backend" --global --project="$PROJECT_ID" \
          --network-endpoint-group="$neg" --network-endpoint-group-region="$region"
      fi
    done
  done
  if ! exists gcloud compute url-maps describe "$LB_URL_MAP" --global --project="$PROJECT_ID"; then
    run gcloud compute url-maps create "$LB_URL_MAP" --global --project="$PROJECT_ID" \
      --default-service="${ROUTER_SERVICE}-backend"
    # The memory gateway's public paths; everything else is the router's.
    run gcloud compute url-maps add-path-matcher "$LB_URL_MAP" --global --project="$PROJECT_ID" \
      --path-matcher-name=atp-paths --default-service="${ROUTER_SERVICE}-backend" --new-hosts="$LB_DOMAIN" \
      --backend-service-path-rules="/v1/memory/*=${GATEWAY_SERVICE}-backend,/v1/pii/*=${GATEWAY_SERVICE}-backend,/v1/audit=${GATEWAY_SERVICE}-backend,/v1/audit/*=${GATEWAY_SERVICE}-backend,/v1/admin/tenant-data=${GATEWAY_SERVICE}-backend"
  fi
  if ! exists gcloud compute ssl-certificates describe "$LB_CERT" --global --project="$PROJECT_ID"; then
    run gcloud compute ssl-certificates create "$LB_CERT" --global --project="$PROJECT_ID" --domains="$LB_DOMAIN"
  fi
  if ! exists gcloud compute target-https-proxies describe "$LB_PROXY" --global --project="$PROJECT_ID"; then
    run gcloud compute target-https-proxies create "$LB_PROXY" --global --project="$PROJECT_ID" \
      --url-map="$LB_URL_MAP" --ssl-certificates="$LB_CERT"
  fi
  if ! exists gcloud compute forwarding-rules describe "$LB_RULE" --global --project="$PROJECT_ID"; then
    run gcloud compute forwarding-rules create "$LB_RULE" --global --project="$PROJECT_ID" \
      --load-balancing-scheme=EXTERNAL_MANAGED --address="$LB_ADDRESS" --target-https-proxy="$LB_PROXY" --ports=443
  fi
  local ip
  ip=$(DRY_VALUE="203.0.113.10" query gcloud compute addresses describe "$LB_ADDRESS" --global \
    --project="$PROJECT_ID" --format='value(address)')
  log "point an A record for $LB_DOMAIN at $ip; the managed certificate becomes ACTIVE after DNS resolves"
}

print_summary() {
  step "done"
  local key
  for key in "${!SERVICE_URL[@]}"; do log "  ${key%@*} (${key#*@}): ${SERVICE_URL[$key]}"; done
  cat >&2 <<EOF

Next steps:
  1. Provider keys:  gcloud secrets versions add $SECRET_PROVIDERS --data-file=provider-keys.json --project=$PROJECT_ID
  2. OIDC (optional): gcloud secrets versions add $SECRET_OIDC --data-file=oidc-config.json --project=$PROJECT_ID
  3. Re-run this script so the new revisions pin the new secret versions.
  4. Mint the first credentials with the CLI (see the README), add notification channels to the alert policies.
EOF
}

deploy() {
  check_prerequisites
  WORK_DIR=$(mktemp -d)
  if [[ "$SKIP_INFRA" != true ]]; then
    enable_apis
    create_service_accounts
    create_vpc_connectors
    create_artifact_registry
    create_redis
    create_cloud_sql
    create_secrets
    grant_secret_access
  fi
  resolve_secret_versions
  prepare_docker_auth
  build_images
  run_migrations
  local region
  for region in "${REGIONS[@]}"; do
    deploy_services "$region"
    wait_for_health "$region"
  done
  if [[ "$SKIP_INFRA" != true ]]; then apply_monitoring; fi
  if [[ -n "$LB_DOMAIN" ]]; then create_load_balancer; fi
  print_summary
}

# delete_if_exists <describe args…> -- <delete args…>
delete_if_exists() {
  local -a describe=() delete=()
  while [[ $# -gt 0 && "$1" != -- ]]; do describe+=("$1"); shift; done
  shift
  delete=("$@")
  if exists "${describe[@]}" || [[ "$DRY_RUN" == true ]]; then run "${delete[@]}"; fi
}

cleanup() {
  step "cleanup"
  log "This deletes the ATP services, job, load balancer, Cloud SQL instance (with its data and backups),"
  log "Redis, VPC connectors, images, secrets and service accounts in project $PROJECT_ID."
  if [[ "$DRY_RUN" != true ]]; then
    local answer=""
    printf 'Type the project id (%s) to confirm: ' "$PROJECT_ID" >&2
    read -r answer || true
    [[ "$answer" == "$PROJECT_ID" ]] || die "cleanup cancelled"
  fi
  local p="--project=$PROJECT_ID" region svc secret sa
  CURRENT_STEP="cleanup: load balancer"
  delete_if_exists gcloud compute forwarding-rules describe "$LB_RULE" --global "$p" -- \
    gcloud compute forwarding-rules delete "$LB_RULE" --global "$p" --quiet
  delete_if_exists gcloud compute target-https-proxies describe "$LB_PROXY" --global "$p" -- \
    gcloud compute target-https-proxies delete "$LB_PROXY" --global "$p" --quiet
  delete_if_exists gcloud compute ssl-certificates describe "$LB_CERT" --global "$p" -- \
    gcloud compute ssl-certificates delete "$LB_CERT" --global "$p" --quiet
  delete_if_exists gcloud compute url-maps describe "$LB_URL_MAP" --global "$p" -- \
    gcloud compute url-maps delete "$LB_URL_MAP" --global "$p" --quiet
  for svc in "$ROUTER_SERVICE" "$GATEWAY_SERVICE"; do
    delete_if_exists gcloud compute backend-services describe "${svc}-backend" --global "$p" -- \
      gcloud compute backend-services delete "${svc}-backend" --global "$p" --quiet
    for region in "${REGIONS[@]}"; do
      delete_if_exists gcloud compute network-endpoint-groups describe "${svc}-neg-${region}" --region="$region" "$p" -- \
        gcloud compute network-endpoint-groups delete "${svc}-neg-${region}" --region="$region" "$p" --quiet
    done
  done
  delete_if_exists gcloud compute security-policies describe "$LB_ARMOR" "$p" -- \
    gcloud compute security-policies delete "$LB_ARMOR" "$p" --quiet
  delete_if_exists gcloud compute addresses describe "$LB_ADDRESS" --global "$p" -- \
    gcloud compute addresses delete "$LB_ADDRESS" --global "$p" --quiet
  CURRENT_STEP="cleanup: services and job"
  for region in "${REGIONS[@]}"; do
    for svc in "$ROUTER_SERVICE" "$GATEWAY_SERVICE"; do
      delete_if_exists gcloud run services describe "$svc" --region="$region" "$p" -- \
        gcloud run services delete "$svc" --region="$region" "$p" --quiet
    done
    delete_if_exists gcloud compute networks vpc-access connectors describe "$CONNECTOR" --region="$region" "$p" -- \
      gcloud compute networks vpc-access connectors delete "$CONNECTOR" --region="$region" "$p" --quiet
  done
  delete_if_exists gcloud run jobs describe "$MIGRATE_JOB" --region="$PRIMARY_REGION" "$p" -- \
    gcloud run jobs delete "$MIGRATE_JOB" --region="$PRIMARY_REGION" "$p" --quiet
  CURRENT_STEP="cleanup: data stores"
  if exists gcloud sql instances describe "$SQL_INSTANCE" "$p" || [[ "$DRY_RUN" == true ]]; then
    run gcloud sql instances patch "$SQL_INSTANCE" "$p" --no-deletion-protection --quiet
    run gcloud sql instances delete "$SQL_INSTANCE" "$p" --quiet
  fi
  delete_if_exists gcloud redis instances describe "$REDIS_INSTANCE" --region="$PRIMARY_REGION" "$p" -- \
    gcloud redis instances delete "$REDIS_INSTANCE" --region="$PRIMARY_REGION" "$p" --quiet
  delete_if_exists gcloud artifacts repositories describe "$REPOSITORY" --location="$PRIMARY_REGION" "$p" -- \
    gcloud artifacts repositories delete "$REPOSITORY" --location="$PRIMARY_REGION" "$p" --quiet
  CURRENT_STEP="cleanup: secrets and identities"
  for secret in "${ALL_SECRETS[@]}"; do
    delete_if_exists gcloud secrets describe "$secret" "$p" -- gcloud secrets delete "$secret" "$p" --quiet
  done
  for sa in "$ROUTER_SA" "$GATEWAY_SA" "$MIGRATE_SA"; do
    delete_if_exists gcloud iam service-accounts describe "$(sa_email "$sa")" "$p" -- \
      gcloud iam service-accounts delete "$(sa_email "$sa")" "$p" --quiet
  done
  log "cleanup finished (alert policies, uptime checks, dashboard and budget are kept; delete them in the console)"
}

main() {
  parse_args "$@"
  if [[ "$DRY_RUN" == true ]]; then log "dry run: commands are printed, none is run"; fi
  case "$COMMAND" in
    deploy) deploy ;;
    cleanup) cleanup ;;
  esac
}

main "$@"
