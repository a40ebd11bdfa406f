//! A data owner of a `fixshare-party` job in a web page: [`OwnerKey`] (its ECDSA P-256 key in
//! WebCrypto) and [`JobOwner`] (its configuration, its rows prepared and shared with both
//! servers over `wss://`).
//!
//! Everything but the browser's APIs is `fixshare_job`'s, the code `fixshare-party owner`
//! runs: the configuration's `[job]`, the session id, the preparation of the rows, the hello,
//! the key proof, the sharing (the core pipeline's `own`/`own_classes`) and owner 0's check
//! of the model. This module translates.

use crate::entropy::fresh_seed;
use crate::error::{coded, message};
use crate::inbox::timeout_option;
use crate::transport::{JsTransport, describe, method};
use crate::websocket::WebSocketTransport;
use fixshare::session::{ErrorKind, OwnerLink as CoreLink};
use fixshare_job::proof::{self, SetupError, Signer};
use fixshare_job::{OwnerConfig, OwnerData};
use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

/// The subprotocol a server's WebSocket listener requires.
const SUBPROTOCOL: &str = "fixshare-owner.v1";

/// A JS error with `msg` and `code`.
fn error(msg: &str, code: &str) -> JsError {
    let e = JsError::new(msg);
    let v: JsValue = e.clone().into();
    let _ = Reflect::set(&v, &"code".into(), &code.into());
    e
}

fn get(o: &JsValue, name: &str) -> JsValue {
    Reflect::get(o, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// `crypto.subtle`, or why there is none.
fn subtle() -> Result<JsValue, String> {
    let crypto = get(&js_sys::global(), "crypto");
    let subtle = get(&crypto, "subtle");
    if subtle.is_object() {
        Ok(subtle)
    } else {
        Err(
            "crypto.subtle is not available (WebCrypto needs a secure context: https:// or \
             localhost)"
                .into(),
        )
    }
}

/// Awaits `crypto.subtle[name](...args)`.
async fn call_subtle(name: &str, args: &[JsValue]) -> Result<JsValue, String> {
    let subtle = subtle()?;
    let f = method(&subtle, name).ok_or(format!("crypto.subtle.{name} is not available"))?;
    let ret = f
        .apply(&subtle, &args.iter().collect::<Array>())
        .map_err(|e| format!("crypto.subtle.{name}: {}", describe(&e)))?;
    JsFuture::from(Promise::resolve(&ret))
        .await
        .map_err(|e| format!("crypto.subtle.{name}: {}", describe(&e)))
}

fn object(fields: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in fields {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o
}

struct KeyInner {
    pair: JsValue,
    private: JsValue,
    spki: Vec<u8>,
}

/// A data owner's key: an ECDSA P-256 key pair in WebCrypto whose private key cannot be
/// exported. Its `pin` goes into the servers' `[owners] pins`, as a TLS owner's would; keep
/// `keyPair` (a `CryptoKeyPair`, which IndexedDB can store) to use the same key again.
#[wasm_bindgen]
#[derive(Clone)]
pub struct OwnerKey(Rc<KeyInner>);

impl OwnerKey {
    async fn of_pair(pair: JsValue) -> Result<OwnerKey, String> {
        let private = get(&pair, "privateKey");
        let public = get(&pair, "publicKey");
        if !private.is_object() || !public.is_object() {
            return Err("expected a CryptoKeyPair (publicKey and privateKey)".into());
        }
        if get(&private, "extractable").as_bool() != Some(false) {
            return Err(
                "the private key is extractable: generate it with extractable = false (a page's \
                 script must not be able to read it)"
                    .into(),
            );
        }
        let alg = get(&private, "algorithm");
        let (name, curve) = (
            get(&alg, "name").as_string(),
            get(&alg, "namedCurve").as_string(),
        );
        if name.as_deref() != Some("ECDSA") || curve.as_deref() != Some("P-256") {
            return Err(format!(
                "the key is {} {}: an owner's key is ECDSA on P-256",
                name.unwrap_or_default(),
                curve.unwrap_or_default()
            ));
        }
        let spki = call_subtle("exportKey", &["spki".into(), public]).await?;
        let spki = Uint8Array::new(&spki).to_vec();
        if proof::p256_point(&spki).is_none() {
            return Err("the public key is not an uncompressed P-256 point".into());
        }
        Ok(OwnerKey(Rc::new(KeyInner {
            pair,
            private,
            spki,
        })))
    }
}

#[wasm_bindgen]
impl OwnerKey {
    /// A new key pair from `crypto.subtle.generateKey` (ECDSA, P-256), the private key not
    /// extractable.
    pub async fn generate() -> Result<OwnerKey, JsError> {
        let alg = object(&[("name", "ECDSA".into()), ("namedCurve", "P-256".into())]);
        let usages = Array::of2(&"sign".into(), &"verify".into());
        let pair = call_subtle("generateKey", &[alg.into(), false.into(), usages.into()])
            .await
            .map_err(|e| error(&format!("OwnerKey.generate: {e}"), "key"))?;
        OwnerKey::of_pair(pair)
            .await
            .map_err(|e| error(&format!("OwnerKey.generate: {e}"), "key"))
    }

    /// The key of a `CryptoKeyPair` made before (ECDSA P-256, the private key not extractable),
    /// for instance kept in IndexedDB.
    #[wasm_bindgen(js_name = fromKeyPair)]
    pub async fn from_key_pair(
        #[wasm_bindgen(unchecked_param_type = "CryptoKeyPair")] pair: JsValue,
    ) -> Result<OwnerKey, JsError> {
        OwnerKey::of_pair(pair)
            .await
            .map_err(|e| error(&format!("OwnerKey.fromKeyPair: {e}"), "key"))
    }

    /// The pin of the key, `sha256:` and 64 hex digits, for the servers' `[owners] pins`.
    #[wasm_bindgen(getter)]
    pub fn pin(&self) -> String {
        fixshare_job::Pin::of_spki(&self.0.spki).to_string()
    }

    /// The public key, a DER `SubjectPublicKeyInfo`.
    #[wasm_bindgen(getter)]
    pub fn spki(&self) -> Vec<u8> {
        self.0.spki.clone()
    }

    /// The `CryptoKeyPair`.
    #[wasm_bindgen(getter, js_name = keyPair, unchecked_return_type = "CryptoKeyPair")]
    pub fn key_pair(&self) -> JsValue {
        self.0.pair.clone()
    }
}

impl Signer for OwnerKey {
    fn spki(&self) -> &[u8] {
        &self.0.spki
    }

    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        let alg = object(&[("name", "ECDSA".into()), ("hash", "SHA-256".into())]);
        let sig = call_subtle(
            "sign",
            &[
                alg.into(),
                self.0.private.clone(),
                Uint8Array::from(message).into(),
            ],
        )
        .await?;
        Ok(Uint8Array::new(&sig).to_vec())
    }
}

/// A data owner of a `fixshare-party` job: its configuration (the TOML of
/// `fixshare_job::owner_config`: `session`, `index`, `[peers.server0]` and `[peers.server1]`
/// with `address = "wss://..."` and `pin`, and the servers' `[job]`) and its table, prepared
/// as `fixshare-party owner` prepares it; `submit` shares it with both servers.
#[wasm_bindgen]
pub struct JobOwner {
    config: OwnerConfig,
    data: OwnerData,
    submitted: Cell<bool>,
}

#[wasm_bindgen]
impl JobOwner {
    /// Reads `config` and prepares `csv` (a CSV file's text or bytes: a header row, numeric
    /// cells, the target last): every check of the configuration and the data happens here,
    /// before any connection (a bad cell is named by its line and column).
    #[wasm_bindgen(constructor)]
    pub fn new(
        config: &str,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] csv: JsValue,
    ) -> Result<JobOwner, JsError> {
        let config = OwnerConfig::parse(config)
            .map_err(|e| error(&format!("JobOwner: configuration: {e}"), "invalidArgument"))?;
        let bytes = if let Some(s) = csv.as_string() {
            s.into_bytes()
        } else if let Some(b) = csv.dyn_ref::<Uint8Array>() {
            b.to_vec()
        } else {
            return Err(error(
                "JobOwner: csv must be a string or a Uint8Array",
                "invalidArgument",
            ));
        };
        let data = OwnerData::from_csv_bytes(&config.job, &bytes, config.index)
            .map_err(|e| error(&format!("JobOwner: data: {e}"), "invalidArgument"))?;
        Ok(JobOwner {
            config,
            data,
            submitted: Cell::new(false),
        })
    }

    /// The session id both servers derive from the same session and `[job]`: 64 hex digits, as
    /// `fixshare-party check` prints it.
    #[wasm_bindgen(getter, js_name = sessionId)]
    pub fn session_id(&self) -> String {
        self.config.session_id().to_string()
    }

    /// This owner's number (owner 0 gets the model).
    #[wasm_bindgen(getter)]
    pub fn index(&self) -> u32 {
        self.config.index as u32
    }

    /// The job in one line (every setting, as the servers log it).
    #[wasm_bindgen(getter)]
    pub fn job(&self) -> String {
        self.config.job.describe()
    }

    /// The training rows this owner shares.
    #[wasm_bindgen(getter, js_name = rowsShared)]
    pub fn rows_shared(&self) -> u32 {
        self.data.shared().0 as u32
    }

    /// The columns of each row it shares.
    #[wasm_bindgen(getter, js_name = columnsShared)]
    pub fn columns_shared(&self) -> u32 {
        self.data.shared().1 as u32
    }

    /// Connects to both servers (`wss://`, subprotocol `fixshare-owner.v1`), proves `key`,
    /// exchanges the hello, shares the prepared rows and, as owner 0, waits for the model.
    /// Resolves to the summary `fixshare-party owner` prints, as an object of strings
    /// (`status`, `rows_shared`, `columns_shared`; for owner 0 also `secure_accuracy` or
    /// `secure_r2`, `plaintext_...`, `weights_rel_rmse`, and `model`: the model file's TOML).
    /// `options`: `{ timeoutMs?: number }`, the longest the page waits for a server to send
    /// anything (none by default: the servers train before they answer). Rejects with a `code`:
    /// `"refused"` (a server refused the key, the hello or the proof; the message says why),
    /// `"closed"` or `"transport"` (a connection failed), `"key"`, `"protocol"`, or the core's.
    /// An owner submits once.
    #[wasm_bindgen(unchecked_return_type = "Promise<Record<string, string>>")]
    pub fn submit(
        &self,
        key: &OwnerKey,
        #[wasm_bindgen(unchecked_optional_param_type = "{ timeoutMs?: number }")] options: Option<
            Object,
        >,
    ) -> Result<Promise, JsError> {
        let timeout = timeout_option("submit", options.as_ref())?;
        if self.submitted.replace(true) {
            return Err(error(
                "submit: this owner has submitted its rows already (a job takes them once)",
                "invalidArgument",
            ));
        }
        let config = self.config.clone();
        let data = self.data.clone();
        let key = key.clone();
        Ok(future_to_promise(async move {
            submit(config, data, key, timeout)
                .await
                .map(JsValue::from)
                .map_err(JsValue::from)
        }))
    }
}

/// Opens the WebSocket to server `i`, proves the key and exchanges the hello.
async fn connect(
    config: &OwnerConfig,
    i: usize,
    key: &OwnerKey,
    timeout: Option<f64>,
) -> Result<JsTransport, JsError> {
    let server = &config.servers[i];
    let name = if i == 0 { "server 0" } else { "server 1" };
    let options = object(&[("protocol", SUBPROTOCOL.into())]);
    if let Some(ms) = timeout {
        let _ = Reflect::set(&options, &"timeoutMs".into(), &ms.into());
    }
    let ws = WebSocketTransport::connect(server.url.clone(), Some(options))
        .await
        .map_err(|e| {
            let v: JsValue = e.into();
            error(&format!("{name}: {}", describe(&v)), "closed")
        })?;
    let mut t = JsTransport::new(name, JsValue::from(ws)).map_err(|e| error(&e, "other"))?;
    proof::owner_setup(&mut t, config.hello(i as u8), &server.pin, key)
        .await
        .map_err(|e| {
            let code = match &e {
                SetupError::Refused(_) => "refused",
                SetupError::Transport(_) => "closed",
                SetupError::Key(_) => "key",
                SetupError::Malformed(_) => "protocol",
            };
            let note = t.take_note().map(|n| format!(" ({n})")).unwrap_or_default();
            error(&format!("{name} at {}: {e}{note}", server.url), code)
        })?;
    Ok(t)
}

async fn submit(
    config: OwnerConfig,
    data: OwnerData,
    key: OwnerKey,
    timeout: Option<f64>,
) -> Result<Object, JsError> {
    let t0 = connect(&config, 0, &key, timeout).await?;
    let t1 = match connect(&config, 1, &key, timeout).await {
        Ok(t) => t,
        Err(e) => {
            t0.close().await;
            return Err(e);
        }
    };
    JsTransport::group(&[&t0, &t1]);
    let (mut to0, mut to1) = (CoreLink::new(t0.clone()), CoreLink::new(t1.clone()));
    let seed = fresh_seed().map_err(|e| error(&format!("submit: {e}"), "other"))?;
    let shared = data.share(seed, &mut to0, &mut to1).await;
    t0.close().await;
    t1.close().await;
    let model = shared.map_err(|e| coded(&message(&e, &[&t0, &t1]), e.kind()))?;
    let (rows, cols) = data.shared();
    let out = object(&[
        ("role", format!("owner {}", config.index).into()),
        ("session", config.session.clone().into()),
        ("job", config.job.kind_name().into()),
        ("status", "ok".into()),
        ("rows_shared", rows.to_string().into()),
        ("columns_shared", cols.to_string().into()),
    ]);
    if let Some(flat) = model {
        let report = data
            .check_model(&flat)
            .map_err(|e| coded(&format!("submit: {e}"), &ErrorKind::Malformed("model")))?;
        for (name, value) in &report.metrics {
            let _ = Reflect::set(&out, &JsValue::from_str(name), &JsValue::from_str(value));
        }
        let toml = report
            .model
            .to_toml()
            .map_err(|e| error(&format!("submit: {e}"), "other"))?;
        let _ = Reflect::set(&out, &"model".into(), &toml.into());
    }
    Ok(out)
}
