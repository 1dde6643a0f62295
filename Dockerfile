# Image for the project's Node processes: the Temporal worker (default) and the Bedrock
# emulator (`command: ["npm", "run", "emulator"]`). Both run TypeScript directly through tsx,
# so there is no build step. Used by docker-compose.yml.
FROM node:20-bookworm-slim

ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

WORKDIR /app

# Dependencies first, for layer caching. tsx is a runtime dependency; @temporalio/core-bridge
# ships its native library for linux/glibc in the npm package (bookworm is glibc).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY tsconfig.json ./
COPY config ./config
COPY templates ./templates
COPY src ./src

USER node
CMD ["npm", "run", "worker"]
