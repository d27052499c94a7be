# syntax=docker/dockerfile:1
# pipedrive-sync on Node.js 24 LTS. Build: docker build -t pipedrive-sync .

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24-slim AS runtime
# A 4 MB young-generation semi-space (V8's default grows to 16): peak RSS under load stays under
# 150 MB for a few more, shorter scavenges. `npm run bench` runs the service with the same value.
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0 \
    NODE_OPTIONS="--max-semi-space-size=4"
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force \
 && npm pkg set scripts.start="node dist/server.js" scripts.migrate="node dist/db/migrate-cli.js"
COPY --from=build /app/dist ./dist
COPY drizzle ./drizzle
# Embedded PGlite (when DATABASE_URL is unset) keeps its files here.
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The service applies pending migrations at start (instances starting together take turns on an
# advisory lock); a release step that ran `npm run migrate` first leaves it nothing to do.
# MIGRATE_ON_START=false leaves them to that step alone.
CMD ["node", "dist/server.js"]
