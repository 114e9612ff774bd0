// A real AT Protocol PDS with an in-memory PLC directory on loopback, for the Bluesky connector tests.
// Usage: node start.mjs <pds-port> <plc-port> <data-dir>; prints "READY <pds-port>" once both listen.
import { createRequire } from 'node:module'
import { Secp256k1Keypair } from '@atproto/crypto'
import { PDS, envToCfg, envToSecrets, readEnv } from '@atproto/pds'

const require = createRequire(import.meta.url)
const plc = require('@did-plc/server')

const [pdsPort, plcPort, dataDir] = process.argv.slice(2)
const plcServer = plc.PlcServer.create({ db: plc.Database.mock(), port: Number(plcPort) })
await plcServer.start()

const rotationKey = await Secp256k1Keypair.create({ exportable: true })
const hex = Buffer.from(await rotationKey.export()).toString('hex')
Object.assign(process.env, {
  PDS_DEV_MODE: 'true',
  PDS_HOSTNAME: 'localhost',
  PDS_PORT: String(pdsPort),
  PDS_DATA_DIRECTORY: dataDir,
  PDS_BLOBSTORE_DISK_LOCATION: `${dataDir}/blobs`,
  PDS_JWT_SECRET: 'stadtbote-test-jwt-secret',
  PDS_ADMIN_PASSWORD: 'stadtbote-test-admin',
  PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: hex,
  PDS_DID_PLC_URL: `http://127.0.0.1:${plcPort}`,
  PDS_SERVICE_HANDLE_DOMAINS: '.test',
  PDS_INVITE_REQUIRED: 'false',
  PDS_CRAWLERS: '',
  PDS_RATE_LIMITS_ENABLED: 'false',
  PDS_DISABLE_SSRF_PROTECTION: 'true',
  LOG_ENABLED: 'false',
})
const env = readEnv()
const pds = await PDS.create(envToCfg(env), envToSecrets(env))
await pds.start()
console.log(`READY ${pdsPort}`)

const stop = async () => {
  await pds.destroy()
  await plcServer.destroy()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
