# syntax=docker/dockerfile:1
# The amux gateway image: `scratch` plus the binary, the C runtime it links (none when static),
# CA roots and a passwd entry. No shell, no package manager; it runs as user 65532 and works with
# a read-only root filesystem. Two ways to build it (docs/deploy.md):
#
#   from source (multi-stage):  docker build -t amux .
#   from a prebuilt binary:     scripts/image-rootfs.sh target/release/amux dist/rootfs-amd64
#                               docker build --build-arg ROOTFS=prebuilt -t amux .
#
# The release workflow uses the second way with one rootfs per architecture (dist/rootfs-amd64,
# dist/rootfs-arm64), each made on a runner of that architecture, so arm64 needs no emulation.
ARG RUST_VERSION=1.95
ARG ROOTFS=source

# --- Build from source.
FROM docker.io/library/rust:${RUST_VERSION}-bookworm AS builder
# jemalloc's largest page size as a log2 (16: 64 KiB pages, some arm64 kernels); empty: the host's.
ARG JEMALLOC_SYS_WITH_LG_PAGE=
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY scripts/image-rootfs.sh ./scripts/
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    if [ -z "$JEMALLOC_SYS_WITH_LG_PAGE" ]; then unset JEMALLOC_SYS_WITH_LG_PAGE; fi \
    && cargo build --release --locked --bin amux \
    && scripts/image-rootfs.sh target/release/amux /rootfs

FROM scratch AS rootfs-source
COPY --from=builder /rootfs/ /

# --- Or take a rootfs laid out by scripts/image-rootfs.sh from a prebuilt release binary.
FROM scratch AS rootfs-prebuilt
ARG TARGETARCH
COPY dist/rootfs-${TARGETARCH}/ /

# --- The runtime image: the chosen rootfs plus metadata (ROOTFS names a stage above, not an image).
# hadolint ignore=DL3006
FROM rootfs-${ROOTFS}
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=https://github.com/amux-dev/amux
LABEL org.opencontainers.image.title="amux" \
      org.opencontainers.image.description="LLM gateway for coding agents" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
# All interfaces inside the container (amux refuses a non-loopback address without keys
# configured unless --no-auth is given). A corporate CA: mount a directory of PEM files and set
# SSL_CERT_DIR to it; both the public roots below and those files are trusted.
ENV AMUX_LISTEN=0.0.0.0:8484 \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
EXPOSE 8484 9464
ENTRYPOINT ["/usr/local/bin/amux"]
CMD ["serve"]
