# The netbench worker image: Node 24 LTS, the project's code, production
# dependencies (tsx runs the TypeScript directly). Tools run inside the
# benchmark pods, so the image needs no iperf3/netperf/fortio.
FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json ./
COPY src ./src
COPY lab ./lab
COPY bin ./bin
ENV NODE_ENV=production
USER node
# kubeconfig is mounted read-only at /kube/config (see docker-compose.yml)
ENV KUBECONFIG=/kube/config
# V8 would size its young generation and first heap limit from the host's
# memory and let a busy worker reach 300-400 MB of garbage; these flags keep
# its peak RSS near 235 MB while creating 30,000 Services (bench/README.md).
ENTRYPOINT ["node", "--max-semi-space-size=16", "--max-old-space-size=512", "--import", "tsx", "src/worker.ts"]
