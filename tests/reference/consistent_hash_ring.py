# Independent reference of shardgate's consistent_hash placement (FNV-1a 64 + splitmix64
# finisher, vnode chain and ring lookup as consistent_hash_ring 0.8 does them), used to
# compute the golden vectors in src/route/consistent_hash_tests.rs. Run: python3 consistent_hash_ring.py
# String keys are placed by their utf8mb4_general_ci weight string, read here from the committed
# table src/route/collation/general_ci.bin (checked against MariaDB by tests/collation_table.rs):
# 2 big-endian bytes per BMP code point, 0xFFFD for every other character, trailing space
# weights (0x0020) removed.
import struct, bisect, os
TABLE=open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../src/route/collation/general_ci.bin"),"rb").read()
def weights(s):
    w=b"".join(TABLE[2*ord(c):2*ord(c)+2] if ord(c)<0x10000 else b"\xff\xfd" for c in s)
    while w.endswith(b"\x00\x20"): w=w[:-2]
    return w
M=2**64-1
def fnv(b):
    h=0xcbf29ce484222325
    for x in b:
        h^=x; h=(h*0x100000001b3)&M
    return h
def mix(z):
    z=((z^(z>>30))*0xbf58476d1ce4e5b9)&M
    z=((z^(z>>27))*0x94d049bb133111eb)&M
    return z^(z>>31)
def H(b): return mix(fnv(b))
le=lambda x: struct.pack('<Q', x & M)
print("golden", H(b""), H(b"s0"), H(struct.pack('<q',42)))
def ring(names, v):
    pts={}
    for i,n in enumerate(names):
        h=H(le(H(n.encode())))
        for _ in range(v):
            pts[h]=i; h=H(le(h))
    ks=sorted(pts); return ks,pts
def get(r,key):
    ks,pts=r; p=H(le(H(key)))
    i=bisect.bisect_left(ks,p)
    if i==len(ks): i=0
    return pts[ks[i]]
r=ring(["s0","s1"],160)
ints=[0,1,2,3,42,99,100,1000,123456,-1,-42,2**63-1,-2**63,7,8]
print(", ".join(f"({k}, {get(r,struct.pack('<q',k))})" for k in ints))
strs=["alice","bob","carol","Alice","ALICE ","paris","zürich","東京","москва","","token-1","token-2","token-3","😀","a b","Émile","emile","EMILE ","Straße","strase","strasse","São Paulo","sao paulo"]
print(", ".join(f'("{k}", {get(r,weights(k))})' for k in strs))
