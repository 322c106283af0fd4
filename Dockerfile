# Build: the pinned Bun compiles one self-contained binary (migrations and Swagger UI inside).
FROM oven/bun:1.4.5 AS build
WORKDIR /src
COPY package.json bun.lock bunfig.toml tsconfig.json ./
RUN bun install --frozen-lockfile
COPY src ./src
COPY drizzle ./drizzle
RUN bun run build

# Run: glibc slim image, non-root, state in a volume.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin wahook \
 && mkdir -p /data /backups && chown wahook /data /backups && chmod 700 /data /backups
COPY --from=build /src/dist/wahook /usr/local/bin/wahook
USER wahook
# Backups on a volume of their own: mount it from another disk (or set WAHOOK_BACKUP_S3_*).
ENV WAHOOK_DATA_DIR=/data WAHOOK_BACKUP_DIR=/backups WAHOOK_HOST=0.0.0.0 WAHOOK_PORT=8080
VOLUME ["/data", "/backups"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD curl -fsS http://127.0.0.1:8080/health || exit 1
STOPSIGNAL SIGTERM
# Every linked account holds an open file: run with --ulimit nofile=65536:65536 (README "Many accounts").
ENTRYPOINT ["/usr/local/bin/wahook"]
