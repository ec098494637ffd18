# lcnet with oneDNN preinstalled. Not built on the project's machines (no
# Docker engine runs there); its steps mirror build.sh, which CI runs.
#
#   docker build -t lcnet .
#   docker run --rm lcnet                      # lcnet-bench: the paper's table on this CPU
#   docker run --rm -v $PWD/models:/m lcnet lcnet info --model /m/inference.json

# ---- build stage: Go, gcc and the -dev packages -----------------------------
FROM debian:12 AS build
ARG GO_VERSION=1.26.8
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      ca-certificates curl gcc libc6-dev pkg-config git libdnnl-dev libturbojpeg0-dev \
 && rm -rf /var/lib/apt/lists/*
RUN curl -fsSL "https://go.dev/dl/go${GO_VERSION}.linux-amd64.tar.gz" | tar -C /usr/local -xz
ENV PATH=/usr/local/go/bin:$PATH
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN ./build.sh build

# ---- runtime stage: the shared libraries and the two binaries only ----------
FROM debian:12-slim
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libdnnl2 libturbojpeg0 libgomp1 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/bin/lcnet /src/bin/lcnet-bench /usr/local/bin/
COPY --from=build /src/third_party/models /usr/share/lcnet/models
CMD ["lcnet-bench"]
