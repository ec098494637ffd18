module github.com/lcnet-go/lcnet

go 1.26
