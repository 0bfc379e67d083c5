import { GoogleAuth, OAuth2Client } from 'google-auth-library';
import type { TokenSource } from './kube.js';

const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';

export interface GoogleCredentials {
  /** The auth client every Google client library is given. */
  authClient: OAuth2Client | GoogleAuth;
  /** The same, in the form google-gax (Container) takes it. */
  gaxAuth: { authClient: OAuth2Client } | { auth: GoogleAuth };
  /** The same identity's bearer token, for the clusters' API servers. */
  tokens: TokenSource;
}

/** A fixed bearer (MESHOPS_GCP_ACCESS_TOKEN): tests, the emulator, short demos. */
export function staticCredentials(accessToken: string): GoogleCredentials {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: accessToken, token_type: 'Bearer' });
  return {
    authClient: client,
    gaxAuth: { authClient: client },
    tokens: { accessToken: () => Promise.resolve(accessToken) },
  };
}

/** Application Default Credentials: Workload Identity on GKE, gcloud's ADC on a laptop. */
export function applicationDefaultCredentials(): GoogleCredentials {
  const auth = new GoogleAuth({ scopes: [CLOUD_PLATFORM] });
  return {
    authClient: auth,
    gaxAuth: { auth },
    tokens: {
      async accessToken() {
        const token = await auth.getAccessToken();
        if (!token) throw new Error('Application Default Credentials gave no access token');
        return token;
      },
    },
  };
}
