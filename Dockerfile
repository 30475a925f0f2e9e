# Build: release binary with the Swift toolchain.
FROM swift:6.3-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-dev zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product vigil --static-swift-stdlib \
    && cp "$(swift build -c release --show-bin-path)/vigil" /vigil

# Run: a slim image with only the runtime libraries, as a non-root user.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-0 zlib1g ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/vigil --create-home vigil
COPY --from=build /vigil /usr/local/bin/vigil
COPY config /etc/vigil
WORKDIR /var/lib/vigil
USER vigil
ENV VIGIL_CONFIG=/etc/vigil/vigil.yaml \
    VIGIL_SERVER_HOST=0.0.0.0 \
    VIGIL_DATABASE_PATH=/var/lib/vigil/data/vigil.sqlite \
    VIGIL_MODEL_PATH=/etc/vigil/models/default-logistic.json
VOLUME ["/var/lib/vigil/data"]
EXPOSE 8080
# The same start command as the README.
ENTRYPOINT ["vigil"]
CMD ["serve"]
