# One image for every subcommand: `docker run IMAGE router …`, `… controller-manager …`, `… engine-sim …`.
# Build: docker build -t kthena . (or buildah bud -t kthena .). deploy/ runs it with `args: [router, …]`.

# ---- build: compile TypeScript, then keep only the runtime dependencies --------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would compile before the sources are copied; the build below does it.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts

# ---- runtime: Node, the compiled CLI, runtime dependencies and the data files it reads -----------------------
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# CRDs (`kthena crds`, the local control plane's Volcano CRDs) and model templates (`kthena create manifest`).
COPY deploy/crds ./deploy/crds
COPY templates ./templates
# A numeric non-root user, so Kubernetes' runAsNonRoot can verify it (the base image's `node` user is 1000).
USER 1000:1000
EXPOSE 8080 9090 8443
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
CMD ["--help"]
