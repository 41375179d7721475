// Generates test vectors for communs' CometBFT light client from CometBFT's own code.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/cometbft/cometbft/types"
	cmtversion "github.com/cometbft/cometbft/proto/tendermint/version"
)

func sum(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

func main() {
	out := map[string]any{}
	// validator sets of keys from fixed seeds
	var vsets []map[string]any
	for _, n := range []int{1, 3, 4, 7} {
		var vals []*types.Validator
		var in []map[string]any
		for i := 0; i < n; i++ {
			priv := ed25519.GenPrivKeyFromSecret([]byte(fmt.Sprintf("validator-%d", i)))
			p := int64(10 + 7*i)
			vals = append(vals, types.NewValidator(priv.PubKey(), p))
			in = append(in, map[string]any{"pub_key": hex.EncodeToString(priv.PubKey().Bytes()), "power": p})
		}
		vs := types.NewValidatorSet(vals)
		var order []string
		for _, v := range vs.Validators {
			order = append(order, hex.EncodeToString(v.PubKey.Bytes()))
		}
		vsets = append(vsets, map[string]any{"validators": in, "order": order, "hash": hex.EncodeToString(vs.Hash())})
	}
	out["validator_sets"] = vsets
	// votes
	var votes []map[string]any
	bid := types.BlockID{Hash: sum("block"), PartSetHeader: types.PartSetHeader{Total: 3, Hash: sum("parts")}}
	for _, c := range []struct {
		chain string
		typ   cmtproto.SignedMsgType
		h     int64
		r     int32
		nilv  bool
		t     time.Time
	}{
		{"communs-test", cmtproto.PrecommitType, 12, 0, false, time.Date(2026, 12, 3, 18, 0, 1, 123456789, time.UTC)},
		{"communs-test", cmtproto.PrecommitType, 12, 2, true, time.Date(2026, 12, 3, 18, 0, 1, 5000, time.UTC)},
		{"c", cmtproto.PrevoteType, 1 << 40, 70000, false, time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		v := &types.Vote{Type: c.typ, Height: c.h, Round: c.r, Timestamp: c.t}
		bidj := map[string]any(nil)
		if !c.nilv {
			v.BlockID = bid
			bidj = map[string]any{"hash": hex.EncodeToString(bid.Hash), "parts": map[string]any{"total": bid.PartSetHeader.Total, "hash": hex.EncodeToString(bid.PartSetHeader.Hash)}}
		}
		votes = append(votes, map[string]any{"chain_id": c.chain, "type": int(c.typ), "height": c.h, "round": c.r,
			"block_id": bidj, "time": c.t.Format(time.RFC3339Nano),
			"sign_bytes": hex.EncodeToString(types.VoteSignBytes(c.chain, v.ToProto()))})
	}
	out["votes"] = votes
	// a header with nanoseconds and an empty last block id (the first block)
	hd := types.Header{Version: cmtversion.Consensus{Block: 11, App: 1}, ChainID: "communs-test", Height: 1,
		Time: time.Date(2026, 12, 3, 18, 0, 1, 987654321, time.UTC),
		DataHash: sum(""), ValidatorsHash: sum("v"), NextValidatorsHash: sum("v"), ConsensusHash: sum("c"),
		AppHash: []byte{}, LastResultsHash: sum(""), EvidenceHash: sum(""), ProposerAddress: sum("p")[:20]}
	hj, _ := json.Marshal(hd)
	out["headers"] = []map[string]any{{"header": json.RawMessage(hj), "hash": hex.EncodeToString(hd.Hash())}}
	hd2 := hd
	hd2.Height = 2
	hd2.LastBlockID = bid
	hd2.LastCommitHash = sum("lc")
	hd2.AppHash = sum("app")
	hj2, _ := json.Marshal(hd2)
	out["headers"] = append(out["headers"].([]map[string]any), map[string]any{"header": json.RawMessage(hj2), "hash": hex.EncodeToString(hd2.Hash())})
	b, _ := json.MarshalIndent(out, "", "  ")
	fmt.Println(string(b))
}
