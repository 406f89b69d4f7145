module github.com/privacyvault/privacyvault/tools/devvault

go 1.26.0
